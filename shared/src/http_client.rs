//! The one way orderflow builds an HTTP client for another system (the Orders API, the DTE
//! provider, the ERPs, the shops), and the TLS every outbound connection uses, the AWS SDK's
//! included (`adapters::aws::sdk_http_client`).
//!
//! TLS is rustls 0.23 on ring: one TLS stack and one crypto library in every function
//! (deny.toml keeps a second one out). Server certificates are verified against Mozilla's root
//! program compiled in ([`ROOT_CERTIFICATES`], webpki-root-certs). Reading the operating
//! system's store instead cost each function ~150 file reads and parses before its first event
//! (docs/PERFORMANCE.md, "Cold start against the floor"); the compiled-in set is updated with
//! the crate, not with the image. A private authority is not trusted.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use rustls::pki_types::CertificateDer;

/// The trust anchors of every outbound TLS connection: Mozilla's root program.
pub const ROOT_CERTIFICATES: &[CertificateDer<'static>] = webpki_root_certs::TLS_SERVER_ROOT_CERTS;

/// Built on the first TLS client, shared by every later one; cloning it shares the root store.
static CLIENT_CONFIG: LazyLock<rustls::ClientConfig> = LazyLock::new(|| {
    let mut roots = rustls::RootCertStore::empty();
    let (_, unparsable) = roots.add_parsable_certificates(ROOT_CERTIFICATES.iter().cloned());
    debug_assert_eq!(unparsable, 0, "every compiled-in root parses");
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
});

/// A reqwest builder on this TLS configuration. reqwest is built without a crypto provider of
/// its own, so `reqwest::Client::new()` would panic: every client starts here.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(CLIENT_CONFIG.clone())
}

/// The root certificates as one PEM bundle, the form the AWS SDK's trust store takes.
pub fn root_certificates_pem() -> Vec<u8> {
    let mut pem = Vec::with_capacity(ROOT_CERTIFICATES.len() * 2048);
    for cert in ROOT_CERTIFICATES {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in STANDARD.encode(cert.as_ref()).as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// A client with a whole-request `timeout`, `headers` sent on every request, and no redirects:
/// a redirect would carry the credential to wherever it points.
pub fn http_client(timeout: Duration, headers: HeaderMap) -> reqwest::Result<reqwest::Client> {
    builder().timeout(timeout).default_headers(headers).redirect(reqwest::redirect::Policy::none()).build()
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};

    use rustls::pki_types::pem::PemObject;

    use super::*;
    use crate::text::error_chain;

    /// `openssl s_server` on loopback with a certificate from an authority made for this test,
    /// which no trust store knows. Killed when dropped.
    struct UnknownAuthorityServer(Child);

    impl Drop for UnknownAuthorityServer {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn openssl(args: &[&str], dir: &Path) {
        let status = Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status();
        assert!(status.expect("the openssl command runs").success(), "openssl {args:?}");
    }

    fn serve_unknown_authority(dir: &Path) -> (UnknownAuthorityServer, u16) {
        // An authority of its own, and a server certificate for localhost that it signed.
        let ca = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"];
        openssl(&[&ca[..], &["-days", "1", "-subj", "/CN=orderflow test authority"]].concat(), dir);
        let csr = ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "leaf.csr"];
        openssl(&[&csr[..], &["-subj", "/CN=localhost"]].concat(), dir);
        std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n").unwrap();
        let sign = ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"];
        openssl(&[&sign[..], &["-out", "cert.pem", "-days", "1", "-extfile", "leaf.ext"]].concat(), dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-cert", "cert.pem", "-key", "key.pem"])
            .args(["-www", "-quiet"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts");
        let server = UnknownAuthorityServer(child);
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (server, port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("openssl s_server did not listen on {port}");
    }

    #[test]
    fn the_pem_bundle_holds_every_root_certificate() {
        assert!(ROOT_CERTIFICATES.len() > 100, "Mozilla's program has well over 100 roots");
        let parsed: Vec<_> =
            CertificateDer::pem_slice_iter(&root_certificates_pem()).collect::<Result<_, _>>().unwrap();
        assert_eq!(parsed, ROOT_CERTIFICATES);
    }

    #[tokio::test]
    async fn a_certificate_from_an_unknown_authority_is_refused() {
        let dir = std::env::temp_dir().join(format!("orderflow-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (_server, port) = serve_unknown_authority(&dir);
        let client = http_client(Duration::from_secs(5), HeaderMap::new()).unwrap();
        let refused = client.get(format!("https://localhost:{port}/")).send().await.expect_err("an untrusted server");
        let chain = error_chain(&refused);
        assert!(refused.is_connect(), "a refusal during the handshake: {chain}");
        assert!(chain.contains("certificate") && chain.contains("UnknownIssuer"), "{chain}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
