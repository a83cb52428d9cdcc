//! The SMTP side of mail: lettre over tokio with rustls (STARTTLS with
//! `smtp://…?tls=required`, implicit TLS with `smtps://`, plain `smtp://`
//! for a relay on loopback). The rules (`billing::mail`) decide what is
//! sent and when; this only sends.

use std::time::Duration;

use lettre::message::header::{ContentType, MessageId};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::server::billing::mail::{Mailer, OutgoingMail};
use crate::server::config::MailSettings;

/// A mail server is given this long per message (connect, talk, send).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

impl SmtpMailer {
    /// None when mail is not configured; an error names a bad setting.
    pub fn new(settings: &MailSettings) -> Result<Option<SmtpMailer>, String> {
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("MAIL_FROM: {e}"))?;
        let reply_to = settings
            .reply_to
            .as_deref()
            .map(|r| {
                r.parse::<Mailbox>()
                    .map_err(|e| format!("MAIL_REPLY_TO: {e}"))
            })
            .transpose()?;
        Ok(Some(SmtpMailer {
            transport,
            from,
            reply_to,
        }))
    }

    fn build(&self, mail: &OutgoingMail) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@billing-console>", mail.message_id)))
            .header(MessageId::from(format!(
                "<{}@billing-console>",
                mail.message_id
            )));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        for to in &mail.to {
            builder = builder.to(to
                .parse::<Mailbox>()
                .map_err(|e| format!("recipient {to}: {e}"))?);
        }
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone());
        let message = match &mail.attachment {
            Some((name, bytes)) => {
                let pdf = ContentType::parse("application/pdf").map_err(|e| e.to_string())?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(text)
                        .singlepart(Attachment::new(name.clone()).body(bytes.clone(), pdf)),
                )
            }
            None => builder.singlepart(text),
        };
        message.map_err(|e| format!("the message could not be built: {e}"))
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, String> {
        let message = self.build(mail)?;
        match self.transport.send(message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(error) => Err(format!(
                "the mail server refused or could not be reached: {error}"
            )),
        }
    }
}
