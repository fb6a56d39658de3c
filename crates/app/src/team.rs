//! Teams: who owns services and (later) schedules and escalation policies.

use crate::{Actor, App, AppError, AppResult};
use triad_domain::user::Permission;
use triad_domain::validate::{self, Validation};
use triad_store::team::{self as teams, Team};
use triad_store::{Conn, new_id};

/// A team to create, or the fields to change (`None` keeps the current value).
#[derive(Debug, Clone, Default)]
pub struct TeamInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Member user ids or emails; replaces the member list when given.
    pub members: Option<Vec<String>>,
}

impl App {
    pub async fn create_team(
        &self,
        actor: &Actor,
        input: TeamInput,
    ) -> AppResult<(Team, Vec<String>)> {
        actor.require(Permission::Administer)?;
        let now = self.now();
        let mut team = Team {
            id: new_id(),
            name: String::new(),
            description: None,
            created_at: now,
            updated_at: now,
        };
        let mut d = self.decide().await?;
        let members = self
            .apply_team_input(d.conn(), &mut team, input, true)
            .await?;
        teams::insert(d.conn(), &team)
            .await
            .map_err(|e| taken(e, &team.name))?;
        teams::set_members(d.conn(), &team.id, &members, now).await?;
        d.commit().await?;
        Ok((team, members))
    }

    pub async fn change_team(
        &self,
        actor: &Actor,
        id: &str,
        input: TeamInput,
    ) -> AppResult<(Team, Vec<String>)> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        let mut team = teams::get(d.conn(), id)
            .await?
            .ok_or(AppError::NotFound("team"))?;
        let replace = input.members.is_some();
        let members = self
            .apply_team_input(d.conn(), &mut team, input, false)
            .await?;
        team.updated_at = self.now();
        teams::update(d.conn(), &team)
            .await
            .map_err(|e| taken(e, &team.name))?;
        if replace {
            teams::set_members(d.conn(), &team.id, &members, team.updated_at).await?;
        }
        let members = teams::members(d.conn(), &team.id).await?;
        d.commit().await?;
        Ok((team, members))
    }

    async fn apply_team_input(
        &self,
        conn: &mut Conn,
        team: &mut Team,
        input: TeamInput,
        creating: bool,
    ) -> AppResult<Vec<String>> {
        let mut v = Validation::new();
        match input.name.as_deref() {
            Some(n) => {
                if let Some(n) = v.check("name", validate::text(n, 100)) {
                    team.name = n;
                }
            }
            None if creating => v.push("name", "is required"),
            None => {}
        }
        if let Some(desc) = input.description.as_deref() {
            team.description = v
                .check("description", validate::optional_text(Some(desc), 2000))
                .flatten();
        }
        let mut members = Vec::new();
        for (i, key) in input.members.unwrap_or_default().iter().enumerate() {
            match self.find_user(conn, key).await? {
                Some(u) if !members.contains(&u.id) => members.push(u.id),
                Some(_) => {}
                None => v.push(&format!("members[{i}]"), "no such user"),
            }
        }
        v.finish()?;
        Ok(members)
    }

    /// Every team with its member ids.
    pub async fn teams(&self, actor: &Actor) -> AppResult<Vec<(Team, Vec<String>)>> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let teams = teams::list(&mut conn).await?;
        let memberships = teams::all_members(&mut conn).await?;
        Ok(teams
            .into_iter()
            .map(|t| {
                let members = memberships
                    .iter()
                    .filter(|(team, _)| *team == t.id)
                    .map(|(_, user)| user.clone())
                    .collect();
                (t, members)
            })
            .collect())
    }

    pub async fn team(&self, actor: &Actor, id: &str) -> AppResult<(Team, Vec<String>)> {
        actor.require(Permission::Read)?;
        let mut conn = self.store().read().await?;
        let team = teams::get(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound("team"))?;
        let members = teams::members(&mut conn, id).await?;
        Ok((team, members))
    }

    /// Deletes a team; refused (409 `in_use`) while services belong to it.
    pub async fn delete_team(&self, actor: &Actor, id: &str) -> AppResult<()> {
        actor.require(Permission::Administer)?;
        let mut d = self.decide().await?;
        teams::delete(d.conn(), id).await?;
        d.commit().await
    }
}

/// Turns a unique-name violation into a clear conflict.
pub(crate) fn taken(e: triad_store::StoreError, name: &str) -> AppError {
    match e {
        triad_store::StoreError::Conflict(_) => {
            AppError::conflict("name_taken", format!("the name {name:?} is already in use"))
        }
        other => other.into(),
    }
}
