//! `/api/v1` routes, a module per feature. Public routes need no bearer
//! (the spec's bootstrap set); everything else is protected.

pub mod agent_config;
pub mod agent_instances;
pub mod agent_remote;
pub mod agent_sessions;
pub mod agents;
pub mod approvals;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod contacts;
pub mod diagnostics;
pub mod events;
pub mod files;
pub mod identity;
pub mod library;
pub mod media_meta;
pub mod media_video;
pub mod networks;
pub mod nodes;
pub mod profile;
pub mod s3;
pub mod settings;
pub mod system;
pub mod vault_status;
pub mod vaults;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system::version))
        .routes(routes!(system::status))
        .routes(routes!(system::openapi_json))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::bootstrap_exchange))
        .routes(routes!(auth::admin_set_password))
        .routes(routes!(auth::admin_bootstrap_ticket))
        // Authenticated by the run's secret, on loopback only.
        .routes(routes!(agent_sessions::hook))
}

pub fn protected_routes() -> OpenApiRouter<AppState> {
    // The profile carries a picture: a larger body than other JSON.
    let profile = OpenApiRouter::new()
        .routes(routes!(identity::put_profile))
        .layer(DefaultBodyLimit::max(
            identity::MAX_PICTURE_BYTES + 16 * 1024,
        ));
    // Uploads stream up to 50 GiB; the vault enforces the limit.
    let uploads = OpenApiRouter::new()
        .routes(routes!(files::upload))
        .layer(DefaultBodyLimit::disable());
    // Agent attachments: raw bytes up to 20 MiB.
    let agent_attachments = OpenApiRouter::new()
        .routes(routes!(agent_instances::attachment_add))
        .layer(DefaultBodyLimit::max(agent_instances::MAX_ATTACHMENT_BYTES));
    OpenApiRouter::new()
        .routes(routes!(system::whoami))
        .routes(routes!(vaults::list, vaults::create))
        .routes(routes!(vaults::get, vaults::patch, vaults::delete))
        .routes(routes!(vaults::lock))
        .routes(routes!(vaults::unlock))
        .routes(routes!(files::list))
        .routes(routes!(files::meta, files::delete))
        .routes(routes!(files::history))
        .routes(routes!(files::restore))
        .routes(routes!(files::move_file))
        .routes(routes!(files::download))
        .routes(routes!(files::stream))
        .routes(routes!(files::version))
        .routes(routes!(files::info))
        .routes(routes!(files::locality))
        .routes(routes!(files::cache))
        .routes(routes!(files::resolve_conflict))
        .routes(routes!(vault_status::info))
        .routes(routes!(vault_status::analytics))
        .routes(routes!(vault_status::scan_status))
        .routes(routes!(vault_status::set_s3_alias))
        .routes(routes!(vault_status::share_url))
        .routes(routes!(vault_status::join))
        .routes(routes!(vault_status::replicate_now))
        .routes(routes!(vault_status::gc))
        .routes(routes!(networks::list, networks::add))
        .routes(routes!(networks::create))
        .routes(routes!(networks::delete))
        .routes(routes!(networks::connect))
        .routes(routes!(networks::disconnect))
        .routes(routes!(networks::invite))
        .routes(routes!(networks::invites))
        .routes(routes!(networks::revoke_invite))
        .routes(routes!(networks::key))
        .routes(routes!(networks::add_peers))
        .routes(routes!(networks::set_bootstrap))
        .routes(routes!(networks::set_bootstrap_invite))
        .routes(routes!(networks::rotate))
        .routes(routes!(networks::setup))
        .routes(routes!(networks::share))
        .routes(routes!(networks::share_node))
        .routes(routes!(networks::nat))
        .routes(routes!(nodes::list))
        .routes(routes!(nodes::self_node))
        .routes(routes!(nodes::get))
        .routes(routes!(nodes::topology))
        .routes(routes!(nodes::speedtest))
        .routes(routes!(nodes::speedtest_history))
        .routes(routes!(nodes::throughput))
        .merge(uploads)
        .routes(routes!(system::metrics))
        .routes(routes!(system::browse))
        .routes(routes!(identity::get_identity))
        .routes(routes!(identity::init))
        .routes(routes!(identity::unlock))
        .routes(routes!(identity::lock))
        .routes(routes!(identity::recover))
        .routes(routes!(identity::change_passphrase))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::patch_app, apps::delete_app))
        .routes(routes!(apps::list_links))
        .routes(routes!(apps::delete_link))
        .routes(routes!(apps::list_grants))
        .routes(routes!(apps::delete_grant))
        .routes(routes!(approvals::list))
        .routes(routes!(approvals::answer))
        .routes(routes!(backups::export))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(events::stream))
        .routes(routes!(diagnostics::create, diagnostics::list))
        .routes(routes!(diagnostics::download, diagnostics::delete))
        .merge(profile)
        .routes(routes!(contacts::list, contacts::create))
        .routes(routes!(contacts::get, contacts::put, contacts::delete))
        .routes(routes!(profile::push_test))
        .routes(routes!(settings::get, settings::put))
        .routes(routes!(agent_sessions::list, agent_sessions::create))
        .routes(routes!(agent_sessions::get, agent_sessions::delete))
        .routes(routes!(agent_sessions::transcript))
        .routes(routes!(agent_sessions::events))
        .routes(routes!(agent_sessions::files))
        .routes(routes!(agent_sessions::send))
        .routes(routes!(agent_sessions::stop))
        .routes(routes!(agent_sessions::archive))
        .routes(routes!(agent_sessions::unarchive))
        .routes(routes!(agent_sessions::resume))
        .routes(routes!(agent_sessions::fork))
        .routes(routes!(agent_sessions::settings))
        .routes(routes!(agent_sessions::approvals))
        .routes(routes!(agent_sessions::decide))
        .routes(routes!(agent_sessions::reply))
        .routes(routes!(agent_sessions::reject))
        .routes(routes!(library::artists))
        .routes(routes!(library::artist))
        .routes(routes!(library::albums))
        .routes(routes!(library::album))
        .routes(routes!(library::songs))
        .routes(routes!(library::genres))
        .routes(routes!(library::search))
        .routes(routes!(library::get_prefs, library::put_prefs))
        .routes(routes!(library::play_events))
        .routes(routes!(library::radio))
        .routes(routes!(media_meta::get_meta, media_meta::put_meta))
        .routes(routes!(media_meta::refingerprint))
        .routes(routes!(media_meta::refresh_vault))
        .routes(routes!(media_meta::refresh_folder))
        .routes(routes!(media_meta::refingerprint_vault))
        .routes(routes!(media_meta::refingerprint_folder))
        .routes(routes!(media_meta::audio_rescan))
        .routes(routes!(media_meta::audio_rescan_status))
        .routes(routes!(media_meta::cover))
        .routes(routes!(media_video::get_meta, media_video::put_meta))
        .routes(routes!(media_video::refingerprint))
        .routes(routes!(media_video::play_event))
        .routes(routes!(media_video::tracks))
        .routes(routes!(media_video::rescan_tracks))
        .routes(routes!(media_video::subtitle))
        .routes(routes!(s3::list_keys, s3::mint_key))
        .routes(routes!(s3::revoke_key))
        .routes(routes!(s3::list_grants, s3::set_grant, s3::remove_grant))
        .routes(routes!(s3::buckets))
        .routes(routes!(s3::listener, s3::set_listener))
        .routes(routes!(agents::list))
        .routes(routes!(agents::send, agents::messages))
        .routes(routes!(agents::send_room, agents::room_messages))
        .routes(routes!(agents::create_invite, agents::list_invites))
        .routes(routes!(agents::revoke_invite))
        .routes(routes!(agents::approve))
        .routes(routes!(agents::revoke))
        .routes(routes!(agent_remote::share_url))
        .routes(routes!(agent_remote::reset_key))
        .routes(routes!(agent_remote::add_remote))
        .routes(routes!(agent_instances::capabilities))
        .routes(routes!(agent_instances::list, agent_instances::create))
        .routes(routes!(
            agent_instances::get,
            agent_instances::patch,
            agent_instances::delete
        ))
        .routes(routes!(agent_instances::refresh_auth))
        .routes(routes!(agent_instances::auth_login))
        .routes(routes!(agent_instances::auth_methods))
        .routes(routes!(agent_config::providers))
        .routes(routes!(
            agent_config::set_provider,
            agent_config::delete_provider
        ))
        .routes(routes!(agent_config::provider_oauth_authorize))
        .routes(routes!(agent_config::provider_oauth_callback))
        .routes(routes!(agent_config::models))
        .routes(routes!(agent_config::mcp_list, agent_config::mcp_add))
        .routes(routes!(agent_config::mcp_delete))
        .routes(routes!(
            agent_config::mcp_oauth_start,
            agent_config::mcp_oauth_drop
        ))
        .routes(routes!(
            agent_config::workspace_add,
            agent_config::workspace_remove
        ))
        .routes(routes!(agent_instances::search))
        .merge(agent_attachments)
        .merge(
            OpenApiRouter::new()
                .routes(routes!(profile::get_profile, profile::put_profile))
                .layer(DefaultBodyLimit::max(profile::BODY_LIMIT)),
        )
}
