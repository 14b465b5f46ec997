//! HTTPS with the agency's certificate: PEM files read with rustls, read again when they
//! change (a renewal by certbot or the like needs no restart).
//!
//! The files are looked at, at most once a second, when a connection arrives. A changed pair
//! that cannot be read (a renewal written halfway, a key that does not fit) is refused with an
//! error in the log, and the certificate in use stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// How often the files are looked at, at most.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// The certificate and key files and what was read from them.
#[derive(Debug)]
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    state: Mutex<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    config: Arc<ServerConfig>,
    /// The files' modification times and sizes when read.
    stamp: Stamp,
    looked: Instant,
}

type Stamp = [(Option<SystemTime>, u64); 2];

impl Tls {
    /// Reads the certificate chain and private key (PEM) at `cert` and `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, String> {
        let stamp = stamp(cert, key);
        let config = config(cert, key)?;
        Ok(Tls {
            cert: cert.to_owned(),
            key: key.to_owned(),
            state: Mutex::new(Loaded {
                config,
                stamp,
                looked: Instant::now(),
            }),
        })
    }

    /// The acceptor for a new connection, after reading the files again if they changed.
    pub fn acceptor(&self) -> TlsAcceptor {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.looked.elapsed() >= LOOK_EVERY {
            state.looked = Instant::now();
            let now = stamp(&self.cert, &self.key);
            if now != state.stamp {
                state.stamp = now;
                match config(&self.cert, &self.key) {
                    Ok(config) => {
                        state.config = config;
                        tracing::info!(cert = %self.cert.display(), "read the renewed certificate");
                    }
                    Err(err) => tracing::error!(
                        "the changed certificate or key cannot be used, the previous one stays: {err}"
                    ),
                }
            }
        }
        TlsAcceptor::from(state.config.clone())
    }
}

fn stamp(cert: &Path, key: &Path) -> Stamp {
    [cert, key].map(|p| match std::fs::metadata(p) {
        Ok(m) => (m.modified().ok(), m.len()),
        Err(_) => (None, 0),
    })
}

fn config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
    // ring rather than aws-lc-rs: it builds with a plain C compiler. Its key exchanges are
    // X25519 and the NIST curves, without the post-quantum hybrid.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not go together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
