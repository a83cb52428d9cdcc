//! The HTTP side of webhooks: resolves an endpoint's host, refuses it when
//! any address is one the rules forbid (`billing::webhooks::address_allowed`),
//! and POSTs the signed delivery to the address it checked (so a DNS answer
//! that changes between check and connect cannot redirect it), following
//! no redirects. The rules decide what is sent and when; this only sends.

use std::net::SocketAddr;
use std::time::Duration;

use crate::server::billing::webhooks::{address_allowed, SignedRequest, WebhookTransport};

/// An endpoint is given this long per delivery (connect, send, answer).
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// A name server is given this long to answer.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of an endpoint's answer is kept with the attempt.
const ANSWER_KEPT: usize = 200;

pub struct HttpTransport {
    allow_private: bool,
}

impl HttpTransport {
    pub fn new(allow_private: bool) -> HttpTransport {
        HttpTransport { allow_private }
    }

    /// The URL's addresses, each allowed; why not otherwise.
    async fn addresses(&self, url: &url::Url) -> Result<Vec<SocketAddr>, String> {
        let host = url.host_str().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().ok_or("the URL has no port")?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let not_found = || format!("The host {host} could not be found.");
        let addresses: Vec<SocketAddr> =
            tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| not_found())?
                .map_err(|_| not_found())?
                .collect();
        if addresses.is_empty() {
            return Err(not_found());
        }
        if let Some(refused) = addresses
            .iter()
            .find(|a| !address_allowed(a.ip(), self.allow_private))
        {
            return Err(format!(
                "{host} resolves to {}, a loopback, private or link-local address; webhooks go only to public addresses.",
                refused.ip()
            ));
        }
        Ok(addresses)
    }
}

#[async_trait::async_trait]
impl WebhookTransport for HttpTransport {
    async fn check_destination(&self, url: &url::Url) -> Result<(), String> {
        self.addresses(url).await.map(|_| ())
    }

    async fn post(&self, request: &SignedRequest) -> Result<String, String> {
        let url = url::Url::parse(&request.url).map_err(|e| format!("bad URL: {e}"))?;
        let addresses = self.addresses(&url).await?;
        let host = url.host_str().unwrap_or_default().to_string();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("billing-console/", env!("CARGO_PKG_VERSION")))
            .resolve_to_addrs(&host, &addresses)
            .build()
            .map_err(|e| format!("could not prepare the request: {e}"))?;
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let answer: String = text.chars().take(ANSWER_KEPT).collect();
        let line = format!(
            "HTTP {}{}",
            status.as_u16(),
            if answer.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", answer.trim())
            }
        );
        if status.is_success() {
            Ok(line)
        } else {
            Err(line)
        }
    }
}

/// A failed request in words (timeouts and refusals, not Rust's types).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", SEND_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect to the endpoint".to_string()
    } else {
        format!("the request failed: {error}")
    }
}
