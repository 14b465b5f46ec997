//! The CRIS Field domain, shared by the phone app (wasm32) and the server (native).
//!
//! Nothing here performs I/O: no HTTP, no IndexedDB, no SQL. The same rules run in both
//! places, so the phone and the server can never disagree about them.

pub mod api;
pub mod caseload;
pub mod consent;
pub mod copy;
pub mod date;
pub mod duplicates;
pub mod expr;
pub mod form;
pub mod hlc;
pub mod id;
pub mod lang;
pub mod merge;
pub mod record;
pub mod referral;
pub mod repair;
pub mod sync;
pub mod words;

pub use date::Date;
pub use lang::Lang;
