//! The server's tests: one binary, a module per concern, over real HTTP on port 0, SQLite
//! files on disk and PostgreSQL.

mod support;

mod audit;
mod auth;
mod backup;
mod cli;
mod closing;
mod consent;
mod copy;
mod dashboard;
mod erase;
mod export;
mod faults;
mod hardening;
mod http;
mod merge;
mod referral;
mod review;
mod store;
mod sync;
mod xlsform;
