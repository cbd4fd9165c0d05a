//! The real binary, on the embedded database: no DATABASE_URL, only a data folder.

use std::process::{Command, Stdio};
use std::time::Duration;

#[actix_web::test]
async fn serve_without_database_url_starts_its_own_cluster_and_stops_it() {
    let data_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("binary-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tarozi"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env_remove("DATABASE_URL")
        .env("TAROZI_ADMIN_PASSWORD", "binary-test-admin-pw")
        .env("TAROZI_WORKERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = crate::helpers::announced_address(&mut child);
    let address = rx.recv_timeout(Duration::from_secs(120)).expect("the server announces its address");
    let client = awc::Client::default();
    let mut ready = client.get(format!("{address}/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    assert!(String::from_utf8_lossy(&ready.body().await.unwrap()).contains("ready"));
    let login = client
        .post(format!("{address}/api/v1/auth/login"))
        .send_json(&serde_json::json!({"username": "admin", "password": "binary-test-admin-pw"}))
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200, "the admin was bootstrapped from TAROZI_ADMIN_PASSWORD");

    let pid_file = data_dir.join("pg/postmaster.pid");
    assert!(pid_file.exists(), "the private cluster runs under the data folder");
    let secret = data_dir.join("jwt-secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);

    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while pid_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!pid_file.exists(), "the cluster is stopped with the service");
    let _ = std::fs::remove_dir_all(&data_dir);
}
