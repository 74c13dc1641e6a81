//! The text of every message the crate sends, in Russian and English.
//!
//! Texts are short enough for one SMS where they carry a code, say what happened and
//! what to do if it was not the person, and never ask for a code back.
//!
//! A template holds two slots: `{code}` for the code or link, and `{valid}` for how
//! long it lasts, written from the configured lifetime (`5 минут`, `1 hour`), so a
//! changed [`PortalConfig`](crate::PortalConfig) never makes a message say the wrong
//! thing.

use time::Duration;
use zeroize::Zeroizing;

use super::MessageKind;
use crate::lang::Lang;
use crate::secret::OneTimeCode;

/// A rendered subject and body.
pub(crate) struct Rendered {
    pub(crate) subject: String,
    pub(crate) body: Zeroizing<String>,
}

/// Renders a message; `code` fills the `{code}` slot of the kinds that carry one, and
/// `valid` the `{valid}` slot of the kinds that say how long it lasts.
pub(crate) fn render(
    kind: MessageKind,
    lang: Lang,
    code: Option<&OneTimeCode>,
    valid: Option<Duration>,
) -> Rendered {
    let (subject, body) = text(kind, lang);
    debug_assert!(
        valid.is_some() || !body.contains("{valid}"),
        "{kind:?} says how long its code lasts"
    );
    let code = code.map_or("", OneTimeCode::expose_secret);
    let valid = valid.map(|valid| lasting(valid, lang)).unwrap_or_default();
    Rendered {
        subject: subject.to_owned(),
        body: Zeroizing::new(body.replace("{code}", code).replace("{valid}", &valid)),
    }
}

/// A lifetime as a message says it, in the largest whole unit: `5 минут`, `1 час`,
/// `30 дней`, `1 hour`. Russian takes the accusative after «действует».
fn lasting(valid: Duration, lang: Lang) -> String {
    let seconds = valid.whole_seconds().max(0);
    let (n, ru, en) = if seconds > 0 && seconds % 86_400 == 0 {
        (seconds / 86_400, ["день", "дня", "дней"], "day")
    } else if seconds > 0 && seconds % 3_600 == 0 {
        (seconds / 3_600, ["час", "часа", "часов"], "hour")
    } else if seconds > 0 && seconds % 60 == 0 {
        (seconds / 60, ["минуту", "минуты", "минут"], "minute")
    } else {
        (seconds, ["секунду", "секунды", "секунд"], "second")
    };
    match lang {
        Lang::Ru => {
            let form = match (n % 10, n % 100) {
                (1, r) if r != 11 => ru[0],
                (2..=4, r) if !(12..=14).contains(&r) => ru[1],
                _ => ru[2],
            };
            format!("{n} {form}")
        }
        _ if n == 1 => format!("1 {en}"),
        _ => format!("{n} {en}s"),
    }
}

/// The subject and the body template of a message.
#[expect(
    clippy::too_many_lines,
    reason = "a table: one arm per message and language"
)]
pub fn text(kind: MessageKind, lang: Lang) -> (&'static str, &'static str) {
    use MessageKind as K;
    match (kind, lang) {
        (K::RegistrationCode, Lang::Ru) => (
            "Код подтверждения регистрации",
            "Код подтверждения: {code}. Никому не сообщайте его.",
        ),
        (K::RegistrationCode, _) => (
            "Registration confirmation code",
            "Your confirmation code: {code}. Do not share it with anyone.",
        ),
        (K::RegistrationAttempt, Lang::Ru) => (
            "Попытка регистрации",
            "Кто-то пытался зарегистрировать новую учётную запись с вашим контактом. \
             Учётная запись у вас уже есть; если вы забыли пароль, восстановите доступ.",
        ),
        (K::RegistrationAttempt, _) => (
            "Registration attempt",
            "Someone tried to register a new account with your contact. You already have \
             an account; if you forgot the password, recover access instead.",
        ),
        (K::LoginCode, Lang::Ru) => (
            "Код для входа",
            "Код для входа: {code}. Никому не сообщайте его.",
        ),
        (K::LoginCode, _) => ("Login code", "Your login code: {code}. Do not share it."),
        (K::SettingsCode, Lang::Ru) => (
            "Код подтверждения изменения настроек",
            "Код подтверждения изменения настроек безопасности: {code}.",
        ),
        (K::SettingsCode, _) => (
            "Security settings code",
            "Your code to confirm a security settings change: {code}.",
        ),
        (K::PasswordChanged, Lang::Ru) => (
            "Пароль изменён",
            "Пароль вашей учётной записи изменён. Если это были не вы, \
             восстановите доступ и обратитесь в службу поддержки.",
        ),
        (K::PasswordChanged, _) => (
            "Password changed",
            "The password of your account was changed. If it was not you, recover \
             access and contact support.",
        ),
        (K::SecondFactorEnabled, Lang::Ru) => (
            "Двухэтапная проверка включена",
            "Для вашей учётной записи включена или изменена двухэтапная проверка входа.",
        ),
        (K::SecondFactorEnabled, _) => (
            "Two-step login enabled",
            "Two-step login was turned on or changed for your account.",
        ),
        (K::SecondFactorDisabled, Lang::Ru) => (
            "Двухэтапная проверка отключена",
            "Для вашей учётной записи отключена двухэтапная проверка входа. Если это \
             были не вы, смените пароль.",
        ),
        (K::SecondFactorDisabled, _) => (
            "Two-step login disabled",
            "Two-step login was turned off for your account. If it was not you, change \
             your password.",
        ),
        (K::LockedOut, Lang::Ru) => (
            "Вход заблокирован",
            "Вход в вашу учётную запись заблокирован после множества неудачных попыток. \
             Восстановите доступ, чтобы снять блокировку.",
        ),
        (K::LockedOut, _) => (
            "Login locked",
            "Login to your account is locked after too many failed attempts. Recover \
             access to lift the lock.",
        ),
        (K::RecoveryCode, Lang::Ru) => (
            "Код восстановления доступа",
            "Код для восстановления доступа: {code}. Действует {valid}. Никому не сообщайте его.",
        ),
        (K::RecoveryCode, _) => (
            "Access recovery code",
            "Your access recovery code: {code}. Valid for {valid}. Do not share it.",
        ),
        (K::RecoveryLink, Lang::Ru) => (
            "Восстановление доступа",
            "Чтобы задать новый пароль, перейдите по ссылке: {code}\nСсылка действует \
             {valid} и только один раз. Если вы не восстанавливали доступ, ничего не делайте.",
        ),
        (K::RecoveryLink, _) => (
            "Access recovery",
            "To set a new password, open this link: {code}\nIt works once, within {valid}. \
             If you did not ask to recover access, do nothing.",
        ),
        (K::ContactCode, Lang::Ru) => (
            "Подтверждение контакта",
            "Код подтверждения нового контакта: {code}. Никому не сообщайте его.",
        ),
        (K::ContactCode, _) => (
            "Contact confirmation",
            "Your code to confirm the new contact: {code}. Do not share it.",
        ),
        (K::ContactChanged, Lang::Ru) => (
            "Контактные данные изменены",
            "В вашей учётной записи изменён номер телефона или адрес электронной почты. \
             Если это были не вы, обратитесь в службу поддержки.",
        ),
        (K::ContactChanged, _) => (
            "Contact details changed",
            "A phone number or e-mail address of your account was changed. If it was not \
             you, contact support.",
        ),
        (K::AccessRestoredByOperator, Lang::Ru) => (
            "Доступ восстановлен в центре обслуживания",
            "Доступ к вашей учётной записи восстановлен сотрудником центра обслуживания по \
             предъявленным документам. Если это были не вы, обратитесь в службу поддержки.",
        ),
        (K::AccessRestoredByOperator, _) => (
            "Access restored at a service centre",
            "A service-centre employee restored access to your account on presented \
             documents. If it was not you, contact support.",
        ),
        (K::DocumentsVerified, Lang::Ru) => (
            "Документы проверены",
            "СНИЛС и паспорт подтверждены. Ваша учётная запись стала стандартной.",
        ),
        (K::DocumentsVerified, _) => (
            "Documents verified",
            "Your SNILS and passport were verified. Your account is now standard.",
        ),
        (K::DocumentsRejected, Lang::Ru) => (
            "Документы не прошли проверку",
            "Данные СНИЛС или паспорта не прошли проверку. Проверьте их в разделе \
             «Мои данные» и отправьте снова.",
        ),
        (K::DocumentsRejected, _) => (
            "Documents not verified",
            "Your SNILS or passport details did not pass verification. Check them in \
             \"My data\" and submit them again.",
        ),
        (K::ActivationCode, Lang::Ru) => (
            "Код подтверждения личности",
            "Код подтверждения личности: {code}. Введите его в разделе «Мои данные»: \
             код действует {valid}. Никому не сообщайте его.",
        ),
        (K::ActivationCode, _) => (
            "Identity confirmation code",
            "Your identity confirmation code: {code}. Enter it in \"My data\" within \
             {valid}. Do not share it with anyone.",
        ),
        (K::IdentityConfirmed, Lang::Ru) => (
            "Личность подтверждена",
            "Ваша личность подтверждена. Учётная запись стала подтверждённой. Если это \
             были не вы, обратитесь в службу поддержки.",
        ),
        (K::IdentityConfirmed, _) => (
            "Identity confirmed",
            "Your identity was confirmed and your account is now confirmed. If it was \
             not you, contact support.",
        ),
        (K::TierLowered, Lang::Ru) => (
            "Уровень учётной записи понижен",
            "Вы указали новые документы. До их проверки учётная запись упрощённая. \
             Если это были не вы, смените пароль.",
        ),
        (K::TierLowered, _) => (
            "Account level lowered",
            "You gave new documents. Until they are verified your account is simplified. \
             If it was not you, change your password.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_said_in_the_largest_whole_unit_with_russian_plurals() {
        let said = |seconds: i64, lang| lasting(Duration::seconds(seconds), lang);
        assert_eq!(said(300, Lang::Ru), "5 минут");
        assert_eq!(said(60, Lang::Ru), "1 минуту");
        assert_eq!(said(180, Lang::Ru), "3 минуты");
        assert_eq!(said(21 * 60, Lang::Ru), "21 минуту");
        assert_eq!(said(11 * 60, Lang::Ru), "11 минут");
        assert_eq!(said(12 * 60, Lang::Ru), "12 минут");
        assert_eq!(said(3_600, Lang::Ru), "1 час");
        assert_eq!(said(2 * 3_600, Lang::Ru), "2 часа");
        assert_eq!(said(24 * 3_600 + 3_600, Lang::Ru), "25 часов");
        assert_eq!(said(30 * 86_400, Lang::Ru), "30 дней");
        assert_eq!(said(86_400, Lang::Ru), "1 день");
        assert_eq!(said(90, Lang::Ru), "90 секунд");
        assert_eq!(said(3_600, Lang::En), "1 hour");
        assert_eq!(said(900, Lang::En), "15 minutes");
        assert_eq!(said(30 * 86_400, Lang::En), "30 days");
    }

    #[test]
    fn a_message_states_the_configured_lifetime_not_a_fixed_one() {
        let code = OneTimeCode::new("123456");
        let ru = render(
            MessageKind::RecoveryCode,
            Lang::Ru,
            Some(&code),
            Some(Duration::minutes(3)),
        );
        assert!(ru.body.contains("Действует 3 минуты."), "{}", *ru.body);
        let en = render(
            MessageKind::RecoveryLink,
            Lang::En,
            Some(&code),
            Some(Duration::hours(2)),
        );
        assert!(en.body.contains("within 2 hours."), "{}", *en.body);
        for kind in [MessageKind::ActivationCode, MessageKind::RecoveryCode] {
            for lang in [Lang::Ru, Lang::En] {
                let body = render(kind, lang, Some(&code), Some(Duration::days(30))).body;
                assert!(!body.contains('{'), "every slot filled: {}", *body);
            }
        }
    }
}
