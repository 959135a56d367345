//! The one way orderflow builds an HTTP client for another system (the Orders API, the DTE
//! provider, the ERPs).
//!
//! TLS is rustls 0.23 on the aws-lc-rs provider: the same stack and provider as the AWS SDK's
//! own client, so each function links one HTTP stack and one TLS stack (deny.toml keeps a second
//! one out). Server certificates are verified against the operating system's roots, which both
//! read from the same store: reqwest through rustls-platform-verifier, the SDK through
//! rustls-native-certs (on Lambda, `SSL_CERT_FILE` or the image's bundle).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// A client with a whole-request `timeout`, `headers` sent on every request, and no redirects:
/// a redirect would carry the credential to wherever it points.
pub fn http_client(timeout: Duration, headers: HeaderMap) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};

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
