//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::api::{
    admin, contacts, incidents, intake_admin, policies, reports, schedules, status_admin, trackers,
};
use crate::dto_engine::*;
use crate::dto_intake::*;
use crate::dto_schedule::*;
use crate::dto_status::*;
use crate::error::{ErrorBody, ErrorDetail, FieldErrorDto};
use crate::{dto::*, stream};
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Triad", description = "Incident response: paging, the three-role team, and enforced communication."),
    paths(
        incidents::declare, incidents::list, incidents::get, incidents::change,
        incidents::acknowledge, incidents::resolve, incidents::reopen,
        incidents::assign_role, incidents::release_role, incidents::role_history,
        incidents::add_note, incidents::timeline, incidents::publish_update, incidents::updates,
        incidents::draft_update,
        incidents::request_update, incidents::notifications,
        policies::list, policies::create, policies::get, policies::replace, policies::delete,
        policies::list_severity, policies::put_severity,
        contacts::list_methods, contacts::add_method, contacts::delete_method,
        contacts::list_rules, contacts::add_rule, contacts::delete_rule,
        stream::incident_stream, stream::global_stream,
        admin::login, admin::change_password,
        admin::list_users, admin::create_user, admin::get_user, admin::change_user, admin::deactivate_user,
        admin::list_teams, admin::create_team, admin::get_team, admin::change_team, admin::delete_team,
        admin::list_services, admin::create_service, admin::get_service, admin::change_service, admin::delete_service,
        admin::list_tokens, admin::create_token, admin::get_token, admin::revoke_token,
        schedules::list, schedules::create, schedules::get, schedules::change, schedules::delete,
        schedules::put_layers, schedules::add_override, schedules::delete_override,
        schedules::final_schedule, schedules::gaps, schedules::schedule_feed, schedules::user_feed,
        schedules::oncall, schedules::team_roles, schedules::put_team_roles,
        schedules::service_roles, schedules::put_service_roles,
        intake_admin::create_key, intake_admin::list_keys, intake_admin::revoke_key,
        intake_admin::list_business, intake_admin::create_business, intake_admin::get_business,
        intake_admin::change_business, intake_admin::delete_business,
        intake_admin::get_follow, intake_admin::follow, intake_admin::unfollow,
        reports::file, reports::for_incident,
        status_admin::get_impact, status_admin::put_impact, status_admin::get_matrix, status_admin::put_matrix,
        status_admin::get_page, status_admin::put_page, status_admin::list_components,
        status_admin::create_component, status_admin::replace_component, status_admin::delete_component,
        status_admin::list_maintenances, status_admin::create_maintenance, status_admin::cancel_maintenance,
        status_admin::subscriber_counts, status_admin::list_templates, status_admin::put_template,
        status_admin::delete_template,
        trackers::create, trackers::list, trackers::delete, trackers::incident_sync,
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldErrorDto, IncidentDto, IncidentPage, RoleDto,
        TimelineEventDto, UpdateDto, DraftDto, UserDto, TeamDto, ServiceDto, TokenDto, LoginResponse,
        ReporterDto, EscalationPolicyDto, LevelDto, TargetDto, SeverityPolicyDto, StaffingDto, CadenceDto,
        ContactMethodDto, RuleDto, UpdateRequestDto, NotificationDto,
        ScheduleDto, ScheduleRequest, SchedulePatchRequest, LayersRequest, LayerDto, VersionDto, GapDto,
        OverrideRequest, OverrideDto, PersonDto, SegmentDto, FinalScheduleDto, GapsDto, OnCallDto,
        RoleOnCallDto, OnCallReportDto, RoleSchedulesRequest, RoleSchedulesDto, CalendarFeedDto,
        IntegrationKeyRequest, IntegrationKeyDto, StakeholderGroupDto, BusinessServiceRequest,
        BusinessServiceDto, intake_admin::FollowDto, ReportRequest, FiledReportDto, ReportDto,
        ImpactItemRequest, ImpactRequest, ImpactItemDto, ImpactDto, MatrixCellDto, MatrixDto,
        PageRequest, PageDto, ComponentRequest, ComponentDto, MaintenanceRequest, MaintenanceDto,
        SubscriberCountsDto, TemplateRequest, TemplateDto, trackers::TrackerRequest, trackers::TrackerDto, trackers::LinkDto,
        trackers::JobDto, trackers::TrackerSyncDto)),
    modifiers(&Bearer),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
