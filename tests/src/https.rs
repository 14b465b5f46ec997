//! HTTPS in the tests: a certificate authority made at test time, certificates it issues
//! for a name, a client that trusts only it, and what Chromium needs to trust it too.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, ServerName};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

/// A name that is not `localhost`: the browser treats it as any server on the internet.
pub const HOST: &str = "cris-field.test";

/// A certificate authority of this test alone.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate the CA issued, and its key's fingerprint as Chromium takes it.
pub struct Issued {
    pub der: CertificateDer<'static>,
    /// base64(SHA-256(SubjectPublicKeyInfo)), for `--ignore-certificate-errors-spki-list`.
    pub spki_sha256: String,
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    pub fn new() -> Self {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "CRIS Field test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("a CA certificate");
        TestCa { cert, key }
    }

    /// Writes a certificate for `host` and a new key as PEM to `cert` and `key` (replacing
    /// what was there, as a renewal does).
    pub fn issue(&self, host: &str, cert: &Path, key: &Path) -> Issued {
        let leaf_key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::new(vec![host.to_owned()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, host);
        let leaf = params
            .signed_by(&leaf_key, &self.cert, &self.key)
            .expect("a certificate");
        // Written beside and moved into place, as certbot does: never half a file.
        for (path, text) in [(cert, leaf.pem()), (key, leaf_key.serialize_pem())] {
            let fresh = path.with_extension("new");
            std::fs::write(&fresh, text).expect("write PEM");
            std::fs::rename(&fresh, path).expect("move PEM into place");
        }
        Issued {
            der: leaf.der().clone(),
            spki_sha256: base64(&Sha256::digest(leaf_key.public_key_der())),
        }
    }

    /// A TLS client that trusts this CA only.
    pub fn client(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.cert.der().clone())
            .expect("the CA as a root");
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

/// An answer read off the wire.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The certificate the server showed.
    pub certificate: CertificateDer<'static>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` over HTTPS to `addr`, as `host`, trusting `ca` only.
pub async fn get(
    ca: &TestCa,
    addr: SocketAddr,
    host: &str,
    path: &str,
) -> std::io::Result<RawAnswer> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from(host.to_owned()).map_err(std::io::Error::other)?;
    let mut tls = ca.client().connect(name, tcp).await?;
    let certificate = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .cloned()
        .ok_or_else(|| std::io::Error::other("no certificate"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    // A peer that closes without TLS's close_notify still sent everything before it.
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(RawAnswer {
        status,
        headers,
        body: body.to_owned(),
        certificate,
    })
}

/// Chromium switches that send `host` to 127.0.0.1 and trust the certificate `issued`
/// (as a phone trusts a certificate of a public authority).
pub fn chromium_args(host: &str, issued: &Issued) -> Vec<String> {
    vec![
        format!("--host-resolver-rules=MAP {host} 127.0.0.1"),
        format!(
            "--ignore-certificate-errors-spki-list={}",
            issued.spki_sha256
        ),
    ]
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_as_the_standard_says() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}
