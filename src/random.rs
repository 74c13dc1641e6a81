//! The crate's one source of randomness: the operating system's CSPRNG.
//!
//! Code that needs random bytes takes `&mut impl rand::CryptoRng` so a test can hand in
//! a seeded generator; production paths pass [`os_rng`].

use rand::rngs::SysRng;
use rand_core::UnwrapErr;

/// The operating system's CSPRNG (`getrandom`), as an infallible `CryptoRng`.
///
/// It panics only if the operating system cannot produce randomness at all, in which
/// case no secret this crate could make would be safe either.
pub(crate) fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    #[test]
    fn os_rng_produces_distinct_values() {
        let mut rng = os_rng();
        assert_ne!(rng.next_u64(), rng.next_u64());
    }
}
