//! The `/api/v1` handlers, one module per group of resources.

pub mod admin;
pub mod contacts;
pub mod incidents;
pub mod intake_admin;
pub mod policies;
pub mod reports;
pub mod schedules;
pub mod status_admin;
pub mod trackers;
