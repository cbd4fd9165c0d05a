//! The one place routes are registered: operations outside `/api/v1`, then every resource
//! under it.

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::controllers;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(controllers::health::configure).service(scope::scope("/api/v1").configure(api_v1));
}

fn api_v1(cfg: &mut ServiceConfig) {
    cfg.configure(controllers::auth::configure)
        .configure(controllers::users::configure)
        .configure(controllers::api_keys::configure)
        .configure(controllers::substances::configure)
        .configure(controllers::products::configure)
        .configure(controllers::regions::configure)
        .configure(controllers::facilities::configure)
        .configure(controllers::estimates::configure)
        .configure(controllers::import_authorizations::configure)
        .configure(controllers::export_authorizations::configure)
        .configure(controllers::transfers::configure)
        .configure(controllers::stock::configure)
        .configure(controllers::dispensings::configure)
        .configure(controllers::analytics::configure)
        .configure(controllers::analytics_settings::configure)
        .configure(controllers::reports::configure)
        .configure(controllers::rules::configure)
        .configure(controllers::flags::configure)
        .configure(controllers::audit::configure);
}
