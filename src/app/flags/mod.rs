//! The review of flags: a regulator of the flag's country moves it through its workflow,
//! assigns it and comments on it.

pub mod comment;
pub mod review;
