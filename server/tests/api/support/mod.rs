//! Helpers shared by the server's tests, one module per concern: servers and databases,
//! accounts, operations, HTTP, a filled store. The load and export programs include them too.

#![allow(dead_code)]

mod accounts;
mod fill;
mod http;
mod ops;
// (Tests only: the programs that share these helpers have no binary to run.)
#[cfg(test)]
pub mod process;
mod server;

// Each program that includes these helpers uses some of them.
#[allow(unused_imports)]
pub use accounts::*;
#[allow(unused_imports)]
pub use fill::*;
#[allow(unused_imports)]
pub use http::*;
pub use ops::*;
pub use server::*;
