//! The app's built files (trunk's `app/dist`), served with the right type, compression and
//! caching.
//!
//! A release build embeds `app/dist` into the binary (rust-embed), so one file is the whole
//! server; debug builds read the same folder from disk. `--app-dir` serves another folder.
//!
//! - Hashed files (`cris-app-<hash>_bg.wasm`, `style-<hash>.css`, ...) are `immutable`: a new
//!   build has new names. Everything else (`index.html`, `sw.js`, the manifest, icons) is
//!   `no-cache`, revalidated by ETag, so a phone always learns about a new version.
//! - Compressible files are sent as brotli or gzip when the client accepts them. The build
//!   writes both next to each file (`x.wasm.br`, `x.wasm.gz`: `scripts/compress.mjs`); they are
//!   taken once checked to decompress to the file, and what has none is compressed when the
//!   server starts, before it answers: no request waits on compression.
//! - Paths without a file extension are screens of the single-page app: they get `index.html`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../app/dist"]
#[allow_missing = true]
struct Embedded;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The app's files, in memory.
#[derive(Debug, Default)]
pub struct Assets {
    files: HashMap<String, Arc<Asset>>,
}

#[derive(Debug)]
struct Asset {
    bytes: Bytes,
    content_type: &'static str,
    cache_control: &'static str,
    /// Content hash, the base of the ETag of each encoding.
    hash: String,
    compressible: bool,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Assets {
    /// The files built into this binary (or, in a debug build, `app/dist` on disk).
    pub fn embedded() -> Self {
        let mut assets = Assets::default();
        for path in Embedded::iter() {
            if let Some(file) = Embedded::get(&path) {
                assets.insert(&path, file.data.into_owned());
            }
        }
        assets.compress_all();
        assets
    }

    /// Every file under `dir`, read now.
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let mut assets = Assets::default();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(current) = stack.pop() {
            for entry in std::fs::read_dir(&current)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    stack.push(path);
                } else if let Ok(relative) = path.strip_prefix(dir) {
                    let key = relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    assets.insert(&key, std::fs::read(&path)?);
                }
            }
        }
        assets.compress_all();
        Ok(assets)
    }

    /// Takes the compressed copies the build wrote as the encodings of their files, and
    /// compresses every compressible file that has none, in parallel, now.
    fn compress_all(&mut self) {
        let copies: Vec<(String, String, Encoding)> = self
            .files
            .keys()
            .filter_map(|key| {
                let (base, encoding) = match key.rsplit_once('.')? {
                    (base, "br") => (base, Encoding::Brotli),
                    (base, "gz") => (base, Encoding::Gzip),
                    _ => return None,
                };
                let of = self.files.get(base)?;
                of.compressible
                    .then(|| (key.clone(), base.to_owned(), encoding))
            })
            .collect();
        for (key, base, encoding) in copies {
            // Not served as a file of its own either way.
            let Some(copy) = self.files.remove(&key) else {
                continue;
            };
            let Some(asset) = self.files.get(&base) else {
                continue;
            };
            if decompress(&copy.bytes, encoding).as_deref() == Some(&asset.bytes[..]) {
                let _ = asset.cell(encoding).set(copy.bytes.clone());
            } else {
                tracing::warn!(file = %key, "a compressed copy does not match its file: compressed anew");
            }
        }
        std::thread::scope(|scope| {
            for asset in self.files.values().filter(|a| a.compressible) {
                for encoding in [Encoding::Gzip, Encoding::Brotli] {
                    if asset.cell(encoding).get().is_none() {
                        scope.spawn(move || {
                            asset
                                .cell(encoding)
                                .get_or_init(|| compress(&asset.bytes, encoding));
                        });
                    }
                }
            }
        });
    }

    /// How many files there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// How many compressible files a request would still have to compress (none, once the
    /// files are read).
    pub fn waiting_for_compression(&self) -> usize {
        self.files
            .values()
            .filter(|a| a.compressible && (a.gzip.get().is_none() || a.brotli.get().is_none()))
            .count()
    }

    /// True when the app was not built: there is nothing to serve.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn insert(&mut self, path: &str, bytes: Vec<u8>) {
        let name = path.rsplit('/').next().unwrap_or(path);
        let content_type = content_type(name);
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let asset = Asset {
            hash: format!("{:016x}", hasher.finish()),
            compressible: is_compressible(content_type),
            cache_control: if is_hashed(name) {
                IMMUTABLE
            } else {
                REVALIDATE
            },
            content_type,
            bytes: Bytes::from(bytes),
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        };
        self.files.insert(path.to_owned(), Arc::new(asset));
    }

    fn get(&self, path: &str) -> Option<Arc<Asset>> {
        self.files.get(path).cloned()
    }
}

/// Serves a file of the app, or `index.html` for a screen's address.
pub async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "method not allowed\n",
        )
            .into_response();
    }
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    let is_page = path == "index.html" || is_screen(path);

    let asset = match state.assets.get(path) {
        Some(asset) => asset,
        None if is_page => match state.assets.get("index.html") {
            Some(index) => index,
            None => return app_not_built(),
        },
        None => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };

    let encoding = if asset.compressible {
        negotiate(&headers)
    } else {
        Encoding::Identity
    };
    let etag = match encoding {
        Encoding::Identity => format!("\"{}\"", asset.hash),
        Encoding::Gzip => format!("\"{}-gz\"", asset.hash),
        Encoding::Brotli => format!("\"{}-br\"", asset.hash),
    };

    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match encoding {
            Encoding::Identity => asset.bytes.clone(),
            other => compressed(asset.clone(), other).await,
        };
        Response::new(Body::from(body))
    };

    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(asset.cache_control),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    if asset.compressible {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    match encoding {
        Encoding::Identity => {}
        Encoding::Gzip => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Encoding::Brotli => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
    }
    response
}

fn app_not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The CRIS Field app is not built into this server. Build it with `make run`, \
         or start the server with --app-dir pointing at a built app.\n",
    )
        .into_response()
}

impl Asset {
    fn cell(&self, encoding: Encoding) -> &OnceLock<Bytes> {
        match encoding {
            Encoding::Brotli => &self.brotli,
            _ => &self.gzip,
        }
    }
}

/// The compressed body: made when the files were read (see [`Assets::compress_all`]), or
/// now, off the async threads, for a file added otherwise.
async fn compressed(asset: Arc<Asset>, encoding: Encoding) -> Bytes {
    if let Some(done) = asset.cell(encoding).get() {
        return done.clone();
    }
    let work = asset.clone();
    let made = tokio::task::spawn_blocking(move || {
        work.cell(encoding)
            .get_or_init(|| compress(&work.bytes, encoding))
            .clone()
    })
    .await;
    // Only a panic inside the compressor could fail the task; then compress here instead.
    made.unwrap_or_else(|_| compress(&asset.bytes, encoding))
}

/// What a compressed copy decompresses to; `None` if it does not.
fn decompress(bytes: &[u8], encoding: Encoding) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match encoding {
        Encoding::Identity => return Some(bytes.to_vec()),
        Encoding::Gzip => {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).ok()?;
        }
        Encoding::Brotli => {
            brotli::BrotliDecompress(&mut &bytes[..], &mut out).ok()?;
        }
    }
    Some(out)
}

fn compress(bytes: &[u8], encoding: Encoding) -> Bytes {
    match encoding {
        Encoding::Identity => Bytes::copy_from_slice(bytes),
        Encoding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // Writing into a Vec cannot fail.
            let _ = encoder.write_all(bytes);
            Bytes::from(encoder.finish().unwrap_or_default())
        }
        Encoding::Brotli => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
            Bytes::from(out)
        }
    }
}

/// Brotli if accepted, else gzip if accepted, else none. `q=0` means "not acceptable".
fn negotiate(headers: &HeaderMap) -> Encoding {
    let accepted: Vec<(String, bool)> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name, !refused)
        })
        .collect();
    let ok = |name: &str| {
        accepted
            .iter()
            .any(|(n, accept)| *accept && (n == name || n == "*"))
    };
    if ok("br") {
        Encoding::Brotli
    } else if ok("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        })
}

/// A screen of the app (`/cases/123`), as opposed to a file (`/app.js`).
fn is_screen(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or(path);
    !last.contains('.')
}

/// Trunk puts a content hash in the names it makes: `name-<hex>.ext`, `name-<hex>_bg.wasm`.
/// The hash is a 64-bit number in hex without leading zeros: mostly 16 digits, one in 16
/// times 15, and so on (fewer than 12 once in 65,536 builds: then the file is only revalidated,
/// not cached for good). Shorter runs of hex digits are names like `icon-192.png`.
fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => mime_guess::from_ext(ext)
            .first_raw()
            .unwrap_or("application/octet-stream"),
    }
}

fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/wasm")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("image/svg+xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed("cris-app-4a3f09c2d1e5b6a7_bg.wasm"));
        assert!(is_hashed("cris-app-4a3f09c2d1e5b6a7.js"));
        assert!(is_hashed("style-0123456789abcdef.css"));
        // A hash with a leading zero, as trunk writes it.
        assert!(is_hashed("cris-app-45c434200ef12ec_bg.wasm"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("sw.js"));
        assert!(!is_hashed("register-sw.js"));
        assert!(!is_hashed("icon-192.png"));
        assert!(!is_hashed("maskable-512.png"));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("x_bg.wasm"), "application/wasm");
        assert_eq!(content_type("a.JS"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("manifest.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("blob"), "application/octet-stream");
    }

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn negotiation_prefers_brotli_and_honours_q_zero() {
        assert_eq!(
            negotiate(&accept("gzip, deflate, br, zstd")),
            Encoding::Brotli
        );
        assert_eq!(negotiate(&accept("gzip")), Encoding::Gzip);
        assert_eq!(negotiate(&accept("br;q=0, gzip;q=0.5")), Encoding::Gzip);
        assert_eq!(negotiate(&accept("identity")), Encoding::Identity);
        assert_eq!(negotiate(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(negotiate(&accept("*")), Encoding::Brotli);
    }

    #[test]
    fn screens_are_paths_without_an_extension() {
        assert!(is_screen("cases/0190c2a4-7a1b-7cc3-8d2e-1f2a3b4c5d6e"));
        assert!(is_screen("settings"));
        assert!(!is_screen("icons/icon-192.png"));
        assert!(!is_screen("missing.js"));
    }
}
