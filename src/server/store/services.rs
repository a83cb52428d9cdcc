//! Services and their runs: created, powered on and off, re-planned,
//! terminated and repriced, each with its event and a bump of the
//! account's usage version, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::decimal::DbDecimal;
use super::error::{StoreError, StoreResult, Violation};
use super::events::insert_event;
use super::pool::{db_run, db_write, for_update, lock_of, SqlStore, Tx};
use super::records::*;
use super::traits::{ServiceChange, Services};

async fn bump_usage_of_service(tx: Tx<'_>, service_id: &str) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(
            "UPDATE accounts SET usage_version = usage_version + 1
             WHERE account_id = (SELECT p.account_id FROM services s
                                 JOIN projects p ON p.project_name = s.project_name
                                 WHERE s.service_id = $1)",
        )
        .bind(service_id)
        .execute(connection)
        .await?;
    });
    Ok(())
}

const SERVICE_COLUMNS: &str = "service_id, project_name, service_name, service_type, plan,
    cloud_name, hourly_price_usd, create_time";

/// A service with its state, account, group and open run.
const SERVICE_STATE_SELECT: &str = "SELECT s.service_id, s.project_name, s.service_name,
        s.service_type, s.plan, s.cloud_name, s.hourly_price_usd,
        CASE WHEN s.terminated_at IS NOT NULL THEN 'terminated'
             WHEN r.service_id IS NULL THEN 'never_started'
             WHEN r.ended_at IS NULL THEN 'running'
             WHEN r.end_reason = 'terminated' THEN 'terminated'
             ELSE 'powered_off' END AS state,
        s.create_time,
        COALESCE(s.terminated_at, r.ended_at, r.started_at, s.create_time) AS update_time,
        p.account_id, p.billing_group_id,
        CASE WHEN r.ended_at IS NULL THEN r.started_at END AS run_started_at,
        CASE WHEN r.ended_at IS NULL THEN r.billed_from END AS run_billed_from
     FROM services s
     JOIN projects p ON p.project_name = s.project_name
     LEFT JOIN service_runs r ON r.service_id = s.service_id
      AND r.started_at = (SELECT MAX(started_at) FROM service_runs x
                          WHERE x.service_id = s.service_id)";

/// A service with its state, read (and, in a write, locked) by id.
async fn service_state(
    tx: Tx<'_>,
    service_id: &str,
    lock: bool,
) -> StoreResult<ServiceStateRecord> {
    db_run!(tx, |connection| {
        let lock = if lock {
            lock_of(&*connection, "s")
        } else {
            String::new()
        };
        sqlx::query_as::<_, ServiceStateRecord>(&format!(
            "{SERVICE_STATE_SELECT} WHERE s.service_id = $1{lock}"
        ))
        .bind(service_id)
        .fetch_optional(connection)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// The plan, price and grid of a run about to start.
#[derive(Clone, Copy)]
struct NewRun<'a> {
    plan: &'a str,
    hourly_price_usd: Decimal,
    billed_from: DateTime<Utc>,
}

async fn insert_run(
    tx: Tx<'_>,
    service_id: &str,
    started_at: DateTime<Utc>,
    run: &NewRun<'_>,
) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query(
            "INSERT INTO service_runs (service_id, started_at, plan, hourly_price_usd, billed_from)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(service_id)
        .bind(started_at)
        .bind(run.plan)
        .bind(DbDecimal(run.hourly_price_usd))
        .bind(run.billed_from)
        .execute(connection)
        .await?;
    });
    Ok(())
}

/// The service's current plan and price (what its next run starts with).
async fn set_plan(
    tx: Tx<'_>,
    service_id: &str,
    plan: &str,
    hourly_price_usd: Decimal,
) -> StoreResult<()> {
    db_run!(tx, |connection| {
        sqlx::query("UPDATE services SET plan = $2, hourly_price_usd = $3 WHERE service_id = $1")
            .bind(service_id)
            .bind(plan)
            .bind(DbDecimal(hourly_price_usd))
            .execute(connection)
            .await?;
    });
    Ok(())
}

/// Ends the open run; it ends after it starts, even when the clock says
/// otherwise. No open run: the service is not running.
async fn end_open_run(
    tx: Tx<'_>,
    service_id: &str,
    at: DateTime<Utc>,
    reason: RunEnd,
) -> StoreResult<()> {
    db_run!(tx, |connection| {
        let open: Option<DateTime<Utc>> = sqlx::query_scalar(&format!(
            "SELECT started_at FROM service_runs WHERE service_id = $1 AND ended_at IS NULL{}",
            for_update(&*connection)
        ))
        .bind(service_id)
        .fetch_optional(&mut *connection)
        .await?;
        let Some(started_at) = open else {
            return Err(StoreError::Violation(Violation::ServiceNotRunning));
        };
        sqlx::query(
            "UPDATE service_runs SET ended_at = $3, end_reason = $4
             WHERE service_id = $1 AND started_at = $2 AND ended_at IS NULL",
        )
        .bind(service_id)
        .bind(started_at)
        .bind(at.max(started_at + chrono::Duration::milliseconds(1)))
        .bind(reason.as_str())
        .execute(connection)
        .await?;
    });
    Ok(())
}

/// The open run (started at `run.0`) ends at `run.1` and the next begins
/// there on `next`'s plan, price and grid; a run that began at that very
/// instant is changed in place instead.
async fn continue_run(
    mut tx: Tx<'_>,
    service_id: &str,
    run: (DateTime<Utc>, DateTime<Utc>),
    reason: RunEnd,
    next: &NewRun<'_>,
) -> StoreResult<()> {
    let (started_at, at) = run;
    if at <= started_at {
        db_run!(tx, |connection| {
            sqlx::query(
                "UPDATE service_runs SET plan = $3, hourly_price_usd = $4, billed_from = $5
                 WHERE service_id = $1 AND started_at = $2 AND ended_at IS NULL",
            )
            .bind(service_id)
            .bind(started_at)
            .bind(next.plan)
            .bind(DbDecimal(next.hourly_price_usd))
            .bind(next.billed_from.max(started_at))
            .execute(connection)
            .await?;
        });
        return Ok(());
    }
    db_run!(tx.reborrow(), |connection| {
        sqlx::query(
            "UPDATE service_runs SET ended_at = $3, end_reason = $4
             WHERE service_id = $1 AND started_at = $2 AND ended_at IS NULL",
        )
        .bind(service_id)
        .bind(started_at)
        .bind(at)
        .bind(reason.as_str())
        .execute(connection)
        .await?;
    });
    let next = NewRun {
        billed_from: next.billed_from.max(at),
        ..*next
    };
    insert_run(tx, service_id, at, &next).await
}

#[async_trait]
impl Services for SqlStore {
    async fn create_service(
        &self,
        new: &NewService,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRecord> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ServiceRecord>(&format!(
                "INSERT INTO services ({SERVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 RETURNING {SERVICE_COLUMNS}"
            ))
            .bind(&new.service_id)
            .bind(&new.project_name)
            .bind(&new.service_name)
            .bind(&new.service_type)
            .bind(&new.plan)
            .bind(&new.cloud_name)
            .bind(DbDecimal(new.hourly_price_usd))
            .bind(at)
            .fetch_one(pool)
            .await?)
        })
    }

    async fn record_service_run(
        &self,
        service_id: &str,
        started_at: DateTime<Utc>,
        end: Option<(DateTime<Utc>, RunEnd)>,
    ) -> StoreResult<()> {
        db_write!(self, |tx| {
            sqlx::query(
                "INSERT INTO service_runs (service_id, started_at, ended_at, end_reason, plan,
                                           hourly_price_usd, billed_from)
                 SELECT $1, $2, $3, $4, plan, hourly_price_usd, $2 FROM services
                 WHERE service_id = $1",
            )
            .bind(service_id)
            .bind(started_at)
            .bind(end.map(|(at, _)| at))
            .bind(end.map(|(_, reason)| reason.as_str()))
            .execute(&mut *tx)
            .await?;
            bump_usage_of_service((&mut *tx).into(), service_id).await
        })
    }

    async fn service_runs(&self, service_id: &str) -> StoreResult<Vec<ServiceRunRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ServiceRunRecord>(
                "SELECT service_id, started_at, ended_at, end_reason, plan, hourly_price_usd,
                        billed_from
                 FROM service_runs WHERE service_id = $1 ORDER BY started_at",
            )
            .bind(service_id)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn services_of_project(
        &self,
        project_name: &str,
    ) -> StoreResult<Vec<ServiceStateRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, ServiceStateRecord>(&format!(
                "{SERVICE_STATE_SELECT} WHERE s.project_name = $1 ORDER BY s.service_name"
            ))
            .bind(project_name)
            .fetch_all(pool)
            .await?)
        })
    }

    async fn create_running_service(
        &self,
        new: &NewService,
        event: &NewEvent,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceStateRecord> {
        db_write!(self, |tx| {
            sqlx::query(&format!(
                "INSERT INTO services ({SERVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&new.service_id)
            .bind(&new.project_name)
            .bind(&new.service_name)
            .bind(&new.service_type)
            .bind(&new.plan)
            .bind(&new.cloud_name)
            .bind(DbDecimal(new.hourly_price_usd))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let run = NewRun {
                plan: &new.plan,
                hourly_price_usd: new.hourly_price_usd,
                billed_from: at,
            };
            insert_run((&mut *tx).into(), &new.service_id, at, &run).await?;
            insert_event((&mut *tx).into(), event).await?;
            bump_usage_of_service((&mut *tx).into(), &new.service_id).await?;
            service_state((&mut *tx).into(), &new.service_id, false).await
        })
    }

    async fn change_service(
        &self,
        service_id: &str,
        at: DateTime<Utc>,
        change: ServiceChange<'_>,
    ) -> StoreResult<ServiceStateRecord> {
        db_write!(self, |tx| {
            let state = service_state((&mut *tx).into(), service_id, true).await?;
            let op = change(&state).map_err(StoreError::Refused)?;
            match &op.action {
                ServiceAction::PowerOn { hourly_price_usd } => {
                    // One open run per service is a unique index: a second
                    // power-on is refused by the write itself.
                    let run = NewRun {
                        plan: &state.plan,
                        hourly_price_usd: *hourly_price_usd,
                        billed_from: at,
                    };
                    insert_run((&mut *tx).into(), service_id, at, &run).await?;
                    set_plan(
                        (&mut *tx).into(),
                        service_id,
                        &state.plan,
                        *hourly_price_usd,
                    )
                    .await?;
                }
                ServiceAction::PowerOff => {
                    end_open_run((&mut *tx).into(), service_id, at, RunEnd::PoweredOff).await?;
                }
                ServiceAction::ChangePlan {
                    plan,
                    hourly_price_usd,
                    billed_from,
                } => {
                    if let (Some(started_at), Some(billed_from)) =
                        (state.run_started_at, *billed_from)
                    {
                        let next = NewRun {
                            plan,
                            hourly_price_usd: *hourly_price_usd,
                            billed_from,
                        };
                        continue_run(
                            (&mut *tx).into(),
                            service_id,
                            (started_at, at),
                            RunEnd::PlanChanged,
                            &next,
                        )
                        .await?;
                    }
                    set_plan((&mut *tx).into(), service_id, plan, *hourly_price_usd).await?;
                }
                ServiceAction::Terminate => {
                    if state.run_started_at.is_some() {
                        end_open_run((&mut *tx).into(), service_id, at, RunEnd::Terminated).await?;
                    }
                    sqlx::query("UPDATE services SET terminated_at = $2 WHERE service_id = $1")
                        .bind(service_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            insert_event((&mut *tx).into(), &op.event).await?;
            bump_usage_of_service((&mut *tx).into(), service_id).await?;
            service_state((&mut *tx).into(), service_id, false).await
        })
    }

    async fn open_runs(&self) -> StoreResult<Vec<OpenRunRecord>> {
        db_run!(self.pool.as_ref(), |pool| {
            Ok(sqlx::query_as::<_, OpenRunRecord>(
                "SELECT s.service_id, s.project_name, s.service_name, s.service_type, s.cloud_name,
                        r.plan, r.hourly_price_usd, r.started_at, r.billed_from,
                        p.account_id, p.billing_group_id
                 FROM service_runs r
                 JOIN services s ON s.service_id = r.service_id
                 JOIN projects p ON p.project_name = s.project_name
                 WHERE r.ended_at IS NULL
                 ORDER BY s.project_name, s.service_name",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    async fn reprice_run(
        &self,
        run: &OpenRunRecord,
        at: DateTime<Utc>,
        next: (Decimal, DateTime<Utc>),
        event: &NewEvent,
    ) -> StoreResult<bool> {
        db_write!(self, |tx| {
            // Only the run as it was read: if another instance (or a plan
            // change) got there first, there is nothing left to do.
            let still: Option<DbDecimal> = sqlx::query_scalar(&format!(
                "SELECT hourly_price_usd FROM service_runs
                 WHERE service_id = $1 AND started_at = $2 AND ended_at IS NULL{}",
                for_update(&*tx)
            ))
            .bind(&run.service_id)
            .bind(run.started_at)
            .fetch_optional(&mut *tx)
            .await?;
            if still.map(|p| p.0) != Some(run.hourly_price_usd.0) {
                return Ok(false);
            }
            let (hourly_price_usd, billed_from) = next;
            let next = NewRun {
                plan: &run.plan,
                hourly_price_usd,
                billed_from,
            };
            continue_run(
                (&mut *tx).into(),
                &run.service_id,
                (run.started_at, at),
                RunEnd::Repriced,
                &next,
            )
            .await?;
            set_plan(
                (&mut *tx).into(),
                &run.service_id,
                &run.plan,
                hourly_price_usd,
            )
            .await?;
            insert_event((&mut *tx).into(), event).await?;
            bump_usage_of_service((&mut *tx).into(), &run.service_id).await?;
            Ok(true)
        })
    }
}
