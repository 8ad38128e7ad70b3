//! The agent hub's device-side building blocks (see the device protocol spec).
pub mod mls;
