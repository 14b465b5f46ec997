//! gzip through the browser's own `CompressionStream`: no compressor in the wasm.

use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `bytes` gzipped, or `None` where the browser has no `CompressionStream` (the caller then
/// sends them as they are).
pub async fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    compress_js(bytes).await.ok()
}

async fn compress_js(bytes: &[u8]) -> Result<Vec<u8>, JsValue> {
    let global = js_sys::global();
    let ctor: Function = Reflect::get(&global, &"CompressionStream".into())?.dyn_into()?;
    let gzip = Reflect::construct(&ctor, &Array::of1(&"gzip".into()))?;
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)?;
    let stream = blob.stream();
    let pipe: Function = Reflect::get(&stream, &"pipeThrough".into())?.dyn_into()?;
    let packed = pipe.call1(&stream, &gzip)?;
    let response = web_sys::Response::new_with_opt_readable_stream(Some(packed.unchecked_ref()))?;
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
