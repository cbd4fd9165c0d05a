//! The regional exchange, national side and wire format: the aggregate package and its
//! schema (`package`), canonical serialization and Ed25519 signatures (`signing`), and the
//! push client that sends packages to the hub (`push`). The hub's use cases (keys, receiving,
//! the regional view) and the sharing policy are commands in `app::exchange`.

pub mod package;
pub mod push;
pub mod signing;
