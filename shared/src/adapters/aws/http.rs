//! The HTTP client every SDK client is built with: the SDK's own hyper 1 client on rustls with
//! ring and the compiled-in roots of [`crate::http_client`], the TLS every other outbound call
//! uses, with its connector built on the first request instead of at every client's
//! construction.
//!
//! The SDK's client answers `validate_base_client_config`, which each `Client::from_conf` calls,
//! by building a whole TLS connector (root store included) and dropping it, "so that native
//! certs load at client initialization time". With two to four clients per function that was
//! most of a function's init beyond the bare runtime (docs/PERFORMANCE.md, "Cold start against
//! the floor"). Here that check is skipped: the connector is built once per timeout setting on
//! the first request and cached by the SDK's client for the execution environment, so the
//! work is paid once, by the first event, and is counted there.

use std::borrow::Cow;
use std::sync::OnceLock;

use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The client for `aws_config::ConfigLoader::http_client`.
pub fn sdk_http_client() -> SharedHttpClient {
    SharedHttpClient::new(ConnectOnFirstRequest(OnceLock::new()))
}

fn hyper_rustls_ring() -> SharedHttpClient {
    let roots = TrustStore::empty().with_pem_certificate(crate::http_client::root_certificates_pem());
    let context = TlsContext::builder().with_trust_store(roots).build().expect("a rustls context takes PEM roots");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https()
}

/// The SDK's client, made on the first request (its trust store too), with the default (no-op)
/// `validate_base_client_config`.
#[derive(Debug)]
struct ConnectOnFirstRequest(OnceLock<SharedHttpClient>);

impl HttpClient for ConnectOnFirstRequest {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.get_or_init(hyper_rustls_ring).http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        // What the SDK's client reports (hyper 1.x, in the user agent), without building it.
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}
