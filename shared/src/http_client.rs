//! The one way orderflow builds an HTTP client for another system (the Orders API, the DTE
//! provider, the ERPs, the shops), and the TLS every outbound connection uses, the AWS SDK's
//! included (`adapters::aws::sdk_http_client`).
//!
//! TLS is rustls 0.23 on ring: one TLS stack and one crypto library in every function
//! (deny.toml keeps a second one out). Server certificates are verified against Mozilla's root
//! program compiled in ([`ROOT_CERTIFICATES`], webpki-root-certs). Reading the operating
//! system's store instead cost each function ~150 file reads and parses before its first event
//! (docs/PERFORMANCE.md, "Cold start against the floor"); the compiled-in set is updated with
//! the crate, not with the image.
//!
//! A private authority (an on-premises ERP's own, a proxy's) is trusted besides them when
//! [`EXTRA_AUTHORITIES_VAR`] names a PEM file of its certificates. The variable is the
//! product's own rather than `SSL_CERT_FILE`, which the Lambda images point at the whole system
//! bundle: reading that would bring back the per-start parsing the compiled-in set removed.

use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Mozilla's root program, trusted by every outbound TLS connection.
pub const ROOT_CERTIFICATES: &[CertificateDer<'static>] = webpki_root_certs::TLS_SERVER_ROOT_CERTS;

/// Names a PEM file of certificate authorities every outbound TLS connection trusts besides
/// [`ROOT_CERTIFICATES`]. Unset or empty: none.
pub const EXTRA_AUTHORITIES_VAR: &str = "ORDERFLOW_EXTRA_CA_FILE";

/// Why the authorities named by [`EXTRA_AUTHORITIES_VAR`] cannot be trusted. A start-up error:
/// running on without them would only move the failure to every call to the system behind them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{EXTRA_AUTHORITIES_VAR}={path}: {reason}")]
pub struct UntrustedAuthorities {
    pub path: String,
    pub reason: String,
}

/// The authorities of [`EXTRA_AUTHORITIES_VAR`], read once. [`crate::startup::init`] and the
/// command's `main` read them first, so a bad file stops the start, not a later call. Read with
/// `var_os`: a path that is not UTF-8 still names a file, where `var` would call it unset.
static EXTRA_AUTHORITIES: LazyLock<Result<Vec<CertificateDer<'static>>, UntrustedAuthorities>> =
    LazyLock::new(|| match std::env::var_os(EXTRA_AUTHORITIES_VAR) {
        Some(path) if !path.is_empty() => read_authorities(Path::new(&path)),
        _ => Ok(Vec::new()),
    });

/// Reads [`EXTRA_AUTHORITIES_VAR`]'s file now, if it names one: the start-up check.
pub fn check_extra_authorities() -> Result<(), UntrustedAuthorities> {
    EXTRA_AUTHORITIES.as_ref().map(|_| ()).map_err(Clone::clone)
}

fn extra_authorities() -> &'static [CertificateDer<'static>] {
    EXTRA_AUTHORITIES.as_deref().expect("read and checked at start-up (check_extra_authorities)")
}

/// The certificates of a PEM file, each one usable as a trust anchor; at least one.
fn read_authorities(path: &Path) -> Result<Vec<CertificateDer<'static>>, UntrustedAuthorities> {
    let refuse = |reason: String| UntrustedAuthorities { path: path.display().to_string(), reason };
    let pem = std::fs::read(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| refuse(format!("not a PEM file of certificates: {e}")))?;
    if certificates.is_empty() {
        return Err(refuse("holds no PEM certificate".to_owned()));
    }
    let mut store = rustls::RootCertStore::empty();
    for (n, certificate) in certificates.iter().enumerate() {
        store
            .add(certificate.clone())
            .map_err(|e| refuse(format!("certificate {} is not usable as an authority: {e}", n + 1)))?;
    }
    Ok(certificates)
}

/// The TLS configuration of every client: the compiled-in roots plus `extra`.
fn client_config(extra: &[CertificateDer<'static>]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let (_, unparsable) = roots.add_parsable_certificates(ROOT_CERTIFICATES.iter().chain(extra).cloned());
    debug_assert_eq!(unparsable, 0, "every compiled-in root parses, and read_authorities checked the rest");
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Built on the first TLS client, shared by every later one; cloning it shares the root store.
static CLIENT_CONFIG: LazyLock<rustls::ClientConfig> = LazyLock::new(|| client_config(extra_authorities()));

/// A reqwest builder on this TLS configuration. reqwest is built without a crypto provider of
/// its own, so `reqwest::Client::new()` would panic: every client starts here.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(CLIENT_CONFIG.clone())
}

/// Every trusted certificate as one PEM bundle, the form the AWS SDK's trust store takes.
pub fn root_certificates_pem() -> Vec<u8> {
    pem_bundle(ROOT_CERTIFICATES.iter().chain(extra_authorities()))
}

fn pem_bundle<'c>(certificates: impl Iterator<Item = &'c CertificateDer<'static>>) -> Vec<u8> {
    let mut pem = Vec::with_capacity(ROOT_CERTIFICATES.len() * 2048);
    for cert in certificates {
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
    use std::process::{Child, Command, Stdio};

    use super::*;
    use crate::test_dir::TestDir;
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
            CertificateDer::pem_slice_iter(&pem_bundle(ROOT_CERTIFICATES.iter())).collect::<Result<_, _>>().unwrap();
        assert_eq!(parsed, ROOT_CERTIFICATES);
    }

    #[tokio::test]
    async fn a_certificate_from_an_unknown_authority_is_refused() {
        let dir = TestDir::new("tls-unknown");
        let (_server, port) = serve_unknown_authority(&dir);
        let client = http_client(Duration::from_secs(5), HeaderMap::new()).unwrap();
        let refused = client.get(format!("https://localhost:{port}/")).send().await.expect_err("an untrusted server");
        let chain = error_chain(&refused);
        assert!(refused.is_connect(), "a refusal during the handshake: {chain}");
        assert!(chain.contains("certificate") && chain.contains("UnknownIssuer"), "{chain}");
    }

    #[tokio::test]
    async fn an_authority_from_the_extra_file_is_trusted_besides_the_roots() {
        let dir = TestDir::new("tls-extra");
        let (_server, port) = serve_unknown_authority(&dir);
        let extra = read_authorities(&dir.join("ca.pem")).unwrap();
        assert_eq!(extra.len(), 1);
        let client = reqwest::Client::builder().tls_backend_preconfigured(client_config(&extra)).build().unwrap();
        let answer = client.get(format!("https://localhost:{port}/")).send().await.expect("a trusted server");
        assert_eq!(answer.status(), 200);
        // The SDK's bundle carries the extra authority after every root.
        let bundle = pem_bundle(ROOT_CERTIFICATES.iter().chain(&extra));
        let parsed: Vec<_> = CertificateDer::pem_slice_iter(&bundle).collect::<Result<_, _>>().unwrap();
        assert_eq!((parsed.len(), parsed.last()), (ROOT_CERTIFICATES.len() + 1, extra.last()));
    }

    #[test]
    fn an_extra_file_that_names_no_usable_authority_is_refused_with_its_reason() {
        let dir = TestDir::new("tls-bad");
        let missing = dir.join("missing.pem");
        let err = read_authorities(&missing).unwrap_err();
        assert_eq!(err.path, missing.display().to_string());
        assert!(err.reason.starts_with("cannot read it"), "{err}");
        assert!(err.to_string().starts_with("ORDERFLOW_EXTRA_CA_FILE="), "{err}");
        let cases = [
            ("empty.pem", "", "holds no PEM certificate"),
            ("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "holds no PEM certificate"),
            ("cut.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n", "not a PEM file of certificates"),
            (
                "junk.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "certificate 1 is not usable",
            ),
        ];
        for (name, text, reason) in cases {
            std::fs::write(dir.join(name), text).unwrap();
            let err = read_authorities(&dir.join(name)).unwrap_err();
            assert!(err.reason.starts_with(reason), "{name}: {err}");
        }
    }
}
