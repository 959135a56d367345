//! The reliability suite of issue 9 in one test binary (so it links once): faults with exact
//! accounting (AWS failing too, through moto: issue 15), duplicates and crashes, hostile API and
//! webhook input, and the security review.
//! What each test proves, with its figures, is in docs/RELIABILITY.md.

mod accounting;
mod aws_faults;
mod crash;
mod crashes;
mod faults;
mod hostile_api;
mod logs;
mod mail;
mod poll_faults;
mod rotation;
mod security;
mod shop_faults;
mod stack;
mod workload;
