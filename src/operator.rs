//! Service-centre operators: staff who act for a person present with documents.

use crate::account::AccountId;
use crate::audit::OperatorRef;

/// An authenticated service-centre employee, as the host's staff system knows them.
///
/// The crate trusts the host to have authenticated the operator; it checks what the
/// operator may do, refuses an action on the operator's own account, and records the
/// operator and centre in every audit event of the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The operator's identifier in the host's staff directory.
    pub id: String,
    /// The service centre (MFC, post office, telecom office) they work at.
    pub centre_id: String,
    /// The operator's own portal account, if they have one.
    pub own_account: Option<AccountId>,
    /// What they may do.
    pub permissions: OperatorPermissions,
}

/// What an operator is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OperatorPermissions {
    /// Restore access: issue a temporary password or one-time access code.
    pub restore_access: bool,
    /// Set a new phone number on an account.
    pub change_phone: bool,
    /// Confirm a person's identity, raising the account to the confirmed tier.
    pub confirm_identity: bool,
}

impl OperatorPermissions {
    /// Every permission.
    pub fn all() -> Self {
        Self {
            restore_access: true,
            change_phone: true,
            confirm_identity: true,
        }
    }
}

impl Operator {
    /// The reference audit events carry.
    pub fn audit_ref(&self) -> OperatorRef {
        OperatorRef {
            operator_id: self.id.clone(),
            centre_id: self.centre_id.clone(),
        }
    }
}
