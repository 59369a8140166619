//! The Docker integration tests: real stacks, real drills. One test binary, so that all of them
//! share the drill slots of `common::take_turn` (cargo runs test binaries one after another;
//! within one, libtest runs tests side by side). `cargo test --test docker scenarios::` runs
//! the shipped scenarios' drills alone, `cargo test --test docker switchover` one of them.

// It runs the `firedrill` binary, built with the `cli` feature only.
#![cfg(feature = "cli")]

#[path = "../common/mod.rs"]
mod common;

mod app_image;
mod app_tier;
mod bounds;
mod clean;
mod compose;
mod docker_trouble;
mod drill_end;
mod faults;
mod game_day;
mod image_choice;
mod installed;
mod isolation;
mod own_settings;
mod pair;
mod primary_crash;
mod redis;
mod scenarios;
mod secrets;
mod steps;
mod teardown;
