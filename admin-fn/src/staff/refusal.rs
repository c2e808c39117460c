//! Why a staff sign-in is refused: each reason has a stable code (the `reason` member of the
//! problem, and the code printed on the page), an HTTP status and words for the person.

use gatehouse_core::jwt::Refusal as TokenRefusal;

/// A refused staff sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffRefusal {
    /// The return carries no `state`, or not the one this browser was sent off with (a login
    /// CSRF attempt, or a link opened in another browser).
    NotStartedHere,
    /// The `state` is unknown, already used or expired: a replayed or stale return.
    Replayed,
    /// The provider said no (the person cancelled, or it refused the client).
    ProviderDeclined { error: String },
    /// The token endpoint refused the code: expired, already used, or not this client's.
    CodeRefused { error: String },
    /// The ID token failed a check (signature, issuer, audience, expiry…).
    Token(TokenRefusal),
    /// The ID token's `nonce` is not the one this sign-in sent.
    WrongNonce,
    /// The person is known to the provider but none of their claim values maps to a role.
    NoRole { who: String },
    /// The provider could not be reached or answered nonsense.
    ProviderUnavailable,
}

impl StaffRefusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            StaffRefusal::NotStartedHere => "state-mismatch",
            StaffRefusal::Replayed => "replayed-state",
            StaffRefusal::ProviderDeclined { .. } => "provider-declined",
            StaffRefusal::CodeRefused { .. } => "code-refused",
            StaffRefusal::Token(TokenRefusal::WrongAudience) => "wrong-audience",
            StaffRefusal::Token(TokenRefusal::Expired) => "id-token-expired",
            StaffRefusal::Token(TokenRefusal::WrongIssuer) => "wrong-issuer",
            StaffRefusal::Token(TokenRefusal::BadSignature | TokenRefusal::UnknownKey) => "bad-signature",
            StaffRefusal::Token(_) => "invalid-id-token",
            StaffRefusal::WrongNonce => "wrong-nonce",
            StaffRefusal::NoRole { .. } => "no-role",
            StaffRefusal::ProviderUnavailable => "provider-unavailable",
        }
    }

    /// The HTTP status: 400 for a return that is not part of a live sign-in, 401 when the
    /// provider's answer does not prove who this is, 403 when it does but grants no role.
    pub fn status(&self) -> u16 {
        match self {
            StaffRefusal::NotStartedHere | StaffRefusal::Replayed => 400,
            StaffRefusal::NoRole { .. } => 403,
            StaffRefusal::ProviderUnavailable => 503,
            _ => 401,
        }
    }

    /// The page's heading and the sentence that says what to do.
    pub fn words(&self) -> (&'static str, String) {
        let again = "Go back to the admin sign-in page and start again.";
        match self {
            StaffRefusal::NotStartedHere => (
                "Sign-in not started here",
                format!("This sign-in did not start in this browser, so it cannot finish here. {again}"),
            ),
            StaffRefusal::Replayed => (
                "Sign-in already used or expired",
                format!("This sign-in was already completed, or it took longer than 10 minutes. {again}"),
            ),
            StaffRefusal::ProviderDeclined { error } => {
                ("Sign-in cancelled", format!("The identity provider did not sign you in ({error}). {again}"))
            }
            StaffRefusal::CodeRefused { error } => (
                "Sign-in code refused",
                format!(
                    "The identity provider refused the sign-in code ({error}): it expired or was already used. {again}"
                ),
            ),
            StaffRefusal::Token(refusal) => {
                ("Sign-in not accepted", format!("The identity provider's answer was refused: {refusal}. {again}"))
            }
            StaffRefusal::WrongNonce => (
                "Sign-in not accepted",
                format!("The identity provider's answer belongs to another sign-in (nonce). {again}"),
            ),
            StaffRefusal::NoRole { who } => (
                "No Gatehouse role for your account",
                format!(
                    "{who} signed in with the identity provider, but none of the account's groups gives a Gatehouse \
                     role. Ask a Gatehouse owner to map one of your groups to a role, or sign in with an admin token."
                ),
            ),
            StaffRefusal::ProviderUnavailable => (
                "Identity provider unavailable",
                "The identity provider could not be reached. Try again in a moment, or sign in with an admin token."
                    .to_owned(),
            ),
        }
    }
}
