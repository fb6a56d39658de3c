//! Wire types of on-call schedules, overrides, the final schedule, who is on call, role
//! schedules and calendar feeds. Times are RFC 3339 strings; layers use civil dates
//! (`2026-01-05`) and times of day (`09:00`) in the layer's zone.

use crate::dto::ts;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use triad_app::oncall::{OnCall, OnCallReport};
use triad_app::schedule::{FinalSchedule, Saved};
use triad_domain::Millis;
use triad_domain::schedule::{Layer, Override, OverrideAction, Schedule, Version};
use triad_domain::user::User;
use triad_store::schedule::RoleSchedule;
use utoipa::ToSchema;

/// Parses an RFC 3339 time (`2026-11-24T09:00:00Z`, or with an offset) for `field`.
pub fn parse_time(field: &str, value: &str) -> Result<Millis, ApiError> {
    value
        .trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            ApiError::field(
                field,
                "must be an RFC 3339 time with a zone, such as 2026-11-24T09:00:00Z",
            )
        })
}

pub fn parse_time_opt(field: &str, value: Option<&str>) -> Result<Option<Millis>, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse_time(field, v))
        .transpose()
}

/// One rotation: `{"name", "time_zone"?, "participants": [user id or email…],
/// "shift_length": 1, "shift_unit": "hours"|"days"|"weeks", "start": "2026-01-05",
/// "handoff_time": "09:00", "restrictions": [{"days": ["mon",…], "start": "09:00",
/// "end": "17:00"}]}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct LayerDto(pub Layer);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub name: String,
    pub description: Option<String>,
    /// IANA zone, e.g. `Europe/London`: the default of layers that name none.
    pub time_zone: String,
    pub layers: Vec<LayerDto>,
    /// When these layers take effect (default now; never in the past).
    pub effective_from: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatchRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub time_zone: Option<String>,
}

/// A new version of the layers: replaces the version with the same `effective_from`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayersRequest {
    pub layers: Vec<LayerDto>,
    pub effective_from: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDto {
    pub effective_from: String,
    pub layers: Vec<LayerDto>,
}

impl From<&Version> for VersionDto {
    fn from(v: &Version) -> Self {
        VersionDto {
            effective_from: ts(v.effective_from),
            layers: v.layers.iter().cloned().map(LayerDto).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GapDto {
    pub start: String,
    pub end: String,
}

fn gaps(list: &[(Millis, Millis)]) -> Vec<GapDto> {
    list.iter()
        .map(|(a, b)| GapDto {
            start: ts(*a),
            end: ts(*b),
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleDto {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub time_zone: String,
    pub versions: Vec<VersionDto>,
    pub overrides: Vec<OverrideDto>,
    pub created_at: String,
    pub updated_at: String,
    /// On create and change: the times with nobody on call in the next 28 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_gaps: Option<Vec<GapDto>>,
}

impl From<&Schedule> for ScheduleDto {
    fn from(s: &Schedule) -> Self {
        ScheduleDto {
            id: s.id.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            time_zone: s.time_zone.clone(),
            versions: s.versions.iter().map(VersionDto::from).collect(),
            overrides: s.overrides.iter().map(OverrideDto::from).collect(),
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
            coverage_gaps: None,
        }
    }
}

impl From<&Saved> for ScheduleDto {
    fn from(s: &Saved) -> Self {
        let mut dto = ScheduleDto::from(&s.schedule);
        dto.coverage_gaps = Some(gaps(&s.gaps));
        dto
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    pub start: String,
    pub end: String,
    /// `add` (also on call), `remove` (not on call), `replace` (takes over).
    pub action: String,
    /// User id or email.
    pub user: String,
    /// For `replace`: only this person's time is taken over (default: everyone's).
    pub replaces: Option<String>,
}

pub fn parse_action(s: &str) -> Result<OverrideAction, ApiError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "add" => Ok(OverrideAction::Add),
        "remove" => Ok(OverrideAction::Remove),
        "replace" => Ok(OverrideAction::Replace),
        _ => Err(ApiError::field(
            "action",
            "must be one of: add, remove, replace",
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideDto {
    pub id: String,
    pub start: String,
    pub end: String,
    pub action: String,
    pub user: String,
    pub replaces: Option<String>,
    pub created_at: String,
}

impl From<&Override> for OverrideDto {
    fn from(o: &Override) -> Self {
        OverrideDto {
            id: o.id.clone(),
            start: ts(o.start),
            end: ts(o.end),
            action: match o.action {
                OverrideAction::Add => "add",
                OverrideAction::Remove => "remove",
                OverrideAction::Replace => "replace",
            }
            .into(),
            user: o.user.clone(),
            replaces: o.replaces.clone(),
            created_at: ts(o.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto {
    pub id: String,
    pub name: String,
    pub email: String,
}

fn people(all: &[User], ids: &[String]) -> Vec<PersonDto> {
    ids.iter()
        .map(|id| match all.iter().find(|u| &u.id == id) {
            Some(u) => PersonDto {
                id: u.id.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
            },
            None => PersonDto {
                id: id.clone(),
                name: id.clone(),
                email: String::new(),
            },
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentDto {
    pub start: String,
    pub end: String,
    pub users: Vec<PersonDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinalScheduleDto {
    pub schedule_id: String,
    pub name: String,
    pub time_zone: String,
    pub from: String,
    pub to: String,
    /// Who is on call, stretch by stretch (only where somebody is).
    pub segments: Vec<SegmentDto>,
    /// Where nobody is on call.
    pub gaps: Vec<GapDto>,
}

impl From<&FinalSchedule> for FinalScheduleDto {
    fn from(f: &FinalSchedule) -> Self {
        FinalScheduleDto {
            schedule_id: f.schedule.id.clone(),
            name: f.schedule.name.clone(),
            time_zone: f.schedule.time_zone.clone(),
            from: ts(f.from),
            to: ts(f.to),
            segments: f
                .segments
                .iter()
                .map(|g| SegmentDto {
                    start: ts(g.start),
                    end: ts(g.end),
                    users: people(&f.users, &g.users),
                })
                .collect(),
            gaps: gaps(&f.gaps),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GapsDto {
    pub schedule_id: String,
    pub from: String,
    pub to: String,
    pub gaps: Vec<GapDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnCallDto {
    pub schedule_id: String,
    pub schedule_name: String,
    pub users: Vec<PersonDto>,
    /// When this set of people next changes (within 35 days).
    pub until: Option<String>,
}

impl From<&OnCall> for OnCallDto {
    fn from(o: &OnCall) -> Self {
        let ids: Vec<String> = o.users.iter().map(|u| u.id.clone()).collect();
        OnCallDto {
            schedule_id: o.schedule_id.clone(),
            schedule_name: o.schedule_name.clone(),
            users: people(&o.users, &ids),
            until: o.until.map(ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleOnCallDto {
    /// `team` or `service`.
    pub scope: String,
    pub scope_id: String,
    /// `observer` or `coordinator`.
    pub role: String,
    pub schedule_id: String,
    pub schedule_name: String,
    /// Who would fill the role at that time.
    pub users: Vec<PersonDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnCallReportDto {
    pub at: String,
    pub schedules: Vec<OnCallDto>,
    pub roles: Vec<RoleOnCallDto>,
}

impl From<&OnCallReport> for OnCallReportDto {
    fn from(r: &OnCallReport) -> Self {
        let schedules: Vec<OnCallDto> = r.schedules.iter().map(OnCallDto::from).collect();
        let roles = r
            .roles
            .iter()
            .map(|(rs, name)| RoleOnCallDto {
                scope: rs.scope.as_str().into(),
                scope_id: rs.scope_id.clone(),
                role: rs.role.as_str().into(),
                schedule_id: rs.schedule_id.clone(),
                schedule_name: name.clone(),
                users: r
                    .schedules
                    .iter()
                    .find(|s| s.schedule_id == rs.schedule_id)
                    .map(|s| {
                        let ids: Vec<String> = s.users.iter().map(|u| u.id.clone()).collect();
                        people(&s.users, &ids)
                    })
                    .unwrap_or_default(),
            })
            .collect();
        OnCallReportDto {
            at: ts(r.at),
            schedules,
            roles,
        }
    }
}

/// `PUT` body: which schedule (id or name) fills each role; `null` or absent: none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSchedulesRequest {
    pub observer: Option<String>,
    pub coordinator: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleSchedulesDto {
    /// Schedule id filling `observer`, if any.
    pub observer: Option<String>,
    /// Schedule id filling `coordinator`, if any.
    pub coordinator: Option<String>,
}

impl From<&[RoleSchedule]> for RoleSchedulesDto {
    fn from(list: &[RoleSchedule]) -> Self {
        let of = |role: &str| {
            list.iter()
                .find(|r| r.role.as_str() == role)
                .map(|r| r.schedule_id.clone())
        };
        RoleSchedulesDto {
            observer: of("observer"),
            coordinator: of("coordinator"),
        }
    }
}

/// A secret calendar feed URL (shown once; creating a new one retires the old one).
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedDto {
    /// Path of the feed on this server: `/ical/{token}.ics`. Anyone with it can read it.
    pub path: String,
    pub token: String,
}

impl CalendarFeedDto {
    pub fn new(token: String) -> Self {
        CalendarFeedDto {
            path: format!("/ical/{token}.ics"),
            token,
        }
    }
}

/// `?from=&to=` (RFC 3339).
#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `?at=` (RFC 3339; default now).
#[derive(Debug, Deserialize)]
pub struct AtQuery {
    pub at: Option<String>,
}
