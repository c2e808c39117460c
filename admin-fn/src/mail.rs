//! The control plane's mail port, and its two adapters: SMTP, and an outbox folder for a
//! laptop without a mail server. Both are `lettre` transports, so a message is built, encoded
//! and written the same way whichever one sends it.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One plain-text message to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Why a message was not handed over. The text never holds the message's body (which may
/// hold a sign-in link).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("not a valid email address: {0}")]
    BadAddress(String),
    #[error("mail could not be sent: {0}")]
    Transport(String),
}

type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Sends mail. A trait object (not a type parameter of the state), so the admin router's
/// type does not change with how a deployment sends mail.
pub trait Mailer: Send + Sync + 'static {
    fn send(&self, mail: Mail) -> Sending<'_>;
}

/// Sends through `lettre` to an SMTP server.
pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// `url` as lettre reads it: `smtp://host:25` (plain, for a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://…` (TLS).
    pub fn new(url: &str, from: &str) -> Result<SmtpMailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Transport(format!("bad SMTP URL: {e}")))?
            .build();
        Ok(SmtpMailer { from: mailbox(from)?, transport })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> Sending<'_> {
        Box::pin(async move {
            let message = message(&self.from, &mail)?;
            self.transport.send(message).await.map(drop).map_err(|e| MailError::Transport(e.to_string()))
        })
    }
}

/// Writes each message as an `.eml` file into a folder, for running without a mail server.
/// Whoever runs the process opens the file; the log says where the folder is, never what is
/// in a message.
pub struct OutboxMailer {
    from: Mailbox,
    folder: PathBuf,
    transport: AsyncFileTransport<Tokio1Executor>,
}

impl OutboxMailer {
    pub fn new(folder: PathBuf, from: &str) -> Result<OutboxMailer, MailError> {
        private_folder(&folder).map_err(|e| MailError::Transport(format!("cannot create the outbox: {e}")))?;
        let transport = AsyncFileTransport::<Tokio1Executor>::new(&folder);
        Ok(OutboxMailer { from: mailbox(from)?, folder, transport })
    }
}

impl Mailer for OutboxMailer {
    fn send(&self, mail: Mail) -> Sending<'_> {
        Box::pin(async move {
            let message = message(&self.from, &mail)?;
            self.transport.send(message).await.map_err(|e| MailError::Transport(e.to_string()))?;
            tracing::info!(outbox = %self.folder.display(), "mail written to the outbox");
            Ok(())
        })
    }
}

/// The outbox holds sign-in links: only its owner may enter it (0700), whatever the umask.
fn private_folder(folder: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(folder)?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(folder)
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address.parse().map_err(|_| MailError::BadAddress(address.to_owned()))
}

fn message(from: &Mailbox, mail: &Mail) -> Result<Message, MailError> {
    Message::builder()
        .from(from.clone())
        .to(mailbox(&mail.to)?)
        .subject(&mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| MailError::Transport(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_holds_each_message_as_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outbox = OutboxMailer::new(dir.path().join("outbox"), "Portal <portal@example.com>").expect("outbox");
        let mail = Mail { to: "dev@example.com".into(), subject: "Sign in".into(), text: "Your link".into() };
        outbox.send(mail).await.expect("written");
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox")).expect("folder").collect();
        assert_eq!(files.len(), 1);
        let path = files[0].as_ref().expect("entry").path();
        let text = std::fs::read_to_string(path).expect("a message");
        assert!(
            text.contains("To: dev@example.com") && text.contains("Subject: Sign in") && text.contains("Your link")
        );
        let bad = Mail { to: "not an address".into(), subject: "x".into(), text: "y".into() };
        assert!(matches!(outbox.send(bad).await, Err(MailError::BadAddress(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("outbox")).expect("folder").permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "only the owner may read sign-in links");
        }
    }
}
