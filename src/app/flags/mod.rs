//! Flags: the list within the caller's scope, and their review (a regulator of the flag's
//! country moves it through its workflow, assigns it and comments on it).

pub mod comment;
pub mod list;
pub mod read;
pub mod review;
