//! The SQL of the store, written once. `impl_store!` expands it for each
//! backend; what differs (how a write transaction starts, row locks) comes in
//! as macro arguments. Both backends accept `$1`-style placeholders.

macro_rules! impl_store {
    (
        store = $store:ty,
        backend = $backend:expr,
        connection = $conn:ty,
        // SQLite takes the write lock up front so that concurrent writers
        // queue on busy_timeout instead of failing on lock upgrade.
        begin_write = $begin:literal,
        // Row lock for read-then-write sequences (PostgreSQL); SQLite's
        // write transaction already serializes them.
        for_update = $for_update:literal $(,)?
    ) => {
        #[async_trait::async_trait]
        impl $crate::server::store::Store for $store {
            fn backend(&self) -> $crate::server::store::Backend {
                $backend
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn is_empty(&self) -> StoreResult<bool> {
                let (users, accounts): (i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM accounts)",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(users == 0 && accounts == 0)
            }

            async fn create_user(&self, new: &NewUser, at: DateTime<Utc>) -> StoreResult<UserRecord> {
                let user = sqlx::query_as::<_, UserRecord>(
                    "INSERT INTO users (user_id, email, real_name, password_hash, create_time)
                     VALUES ($1, $2, $3, $4, $5)
                     RETURNING user_id, email, real_name, password_hash, create_time",
                )
                .bind(new_id())
                .bind(&new.email)
                .bind(&new.real_name)
                .bind(&new.password_hash)
                .bind(at)
                .fetch_one(&self.pool)
                .await?;
                Ok(user)
            }

            async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as::<_, UserRecord>(
                    "SELECT user_id, email, real_name, password_hash, create_time
                     FROM users WHERE email = $1",
                )
                .bind(email)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_session(
                &self,
                session_hash: &str,
                user_id: &str,
                at: DateTime<Utc>,
                expires: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (session_hash, user_id, create_time, expire_time)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(session_hash)
                .bind(user_id)
                .bind(at)
                .bind(expires)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session_user(
                &self,
                session_hash: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as::<_, UserRecord>(
                    "SELECT u.user_id, u.email, u.real_name, u.password_hash, u.create_time
                     FROM sessions s JOIN users u ON u.user_id = s.user_id
                     WHERE s.session_hash = $1 AND s.expire_time > $2",
                )
                .bind(session_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
                    .bind(session_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expire_time <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn login_failures(&self, email: &str) -> StoreResult<Option<LoginFailureRecord>> {
                Ok(sqlx::query_as::<_, LoginFailureRecord>(
                    "SELECT email, failures, last_failure_time FROM login_failures WHERE email = $1",
                )
                .bind(email)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn record_login_failure(
                &self,
                email: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<LoginFailureRecord> {
                Ok(sqlx::query_as::<_, LoginFailureRecord>(
                    "INSERT INTO login_failures (email, failures, last_failure_time) VALUES ($1, 1, $2)
                     ON CONFLICT (email) DO UPDATE
                       SET failures = login_failures.failures + 1, last_failure_time = excluded.last_failure_time
                     RETURNING email, failures, last_failure_time",
                )
                .bind(email)
                .bind(at)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM login_failures WHERE email = $1")
                    .bind(email)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn client_login_failures(
                &self,
                client_ip: &str,
            ) -> StoreResult<Option<ClientFailureRecord>> {
                Ok(sqlx::query_as::<_, ClientFailureRecord>(
                    "SELECT client_ip, failures, window_start, last_failure_time
                     FROM client_login_failures WHERE client_ip = $1",
                )
                .bind(client_ip)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn record_client_login_failure(
                &self,
                client_ip: &str,
                at: DateTime<Utc>,
                window_start_after: DateTime<Utc>,
            ) -> StoreResult<ClientFailureRecord> {
                Ok(sqlx::query_as::<_, ClientFailureRecord>(
                    "INSERT INTO client_login_failures (client_ip, failures, window_start, last_failure_time)
                     VALUES ($1, 1, $2, $2)
                     ON CONFLICT (client_ip) DO UPDATE SET
                       failures = CASE WHEN client_login_failures.last_failure_time < $3
                                       THEN 1 ELSE client_login_failures.failures + 1 END,
                       window_start = CASE WHEN client_login_failures.last_failure_time < $3
                                           THEN excluded.window_start ELSE client_login_failures.window_start END,
                       last_failure_time = excluded.last_failure_time
                     RETURNING client_ip, failures, window_start, last_failure_time",
                )
                .bind(client_ip)
                .bind(at)
                .bind(window_start_after)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn create_api_token(
                &self,
                token_hash: &str,
                token_prefix: &str,
                user_id: &str,
                description: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO api_tokens (token_hash, token_prefix, user_id, description, create_time)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token_hash)
                .bind(token_prefix)
                .bind(user_id)
                .bind(description)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn api_tokens_of_user(&self, user_id: &str) -> StoreResult<Vec<ApiTokenRecord>> {
                Ok(sqlx::query_as::<_, ApiTokenRecord>(
                    "SELECT token_prefix, description, create_time, last_used_time FROM api_tokens
                     WHERE user_id = $1 AND revoke_time IS NULL
                     ORDER BY create_time DESC, token_prefix",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn revoke_api_token(
                &self,
                user_id: &str,
                token_prefix: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoke_time = $3
                     WHERE user_id = $1 AND token_prefix = $2 AND revoke_time IS NULL",
                )
                .bind(user_id)
                .bind(token_prefix)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn api_token_user(
                &self,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<UserRecord>> {
                let user = sqlx::query_as::<_, UserRecord>(
                    "SELECT u.user_id, u.email, u.real_name, u.password_hash, u.create_time
                     FROM api_tokens t JOIN users u ON u.user_id = t.user_id
                     WHERE t.token_hash = $1 AND t.revoke_time IS NULL",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                if user.is_some() {
                    sqlx::query(
                        "UPDATE api_tokens SET last_used_time = $2
                         WHERE token_hash = $1 AND (last_used_time IS NULL OR last_used_time < $3)",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .bind(now - chrono::Duration::minutes(1))
                    .execute(&self.pool)
                    .await?;
                }
                Ok(user)
            }

            async fn create_account(
                &self,
                new: &NewAccount,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<(AccountRecord, BillingGroupRecord)> {
                let mut tx = self.pool.begin_with($begin).await?;
                // The account's primary-group key is checked at commit, once
                // the group below exists.
                let account = sqlx::query_as::<_, AccountRecord>(
                    "INSERT INTO accounts (account_id, account_name, primary_billing_group_id, create_time, update_time)
                     VALUES ($1, $2, $3, $4, $4)
                     RETURNING account_id, account_name, primary_billing_group_id, create_time, update_time",
                )
                .bind(&new.account_id)
                .bind(&new.account_name)
                .bind(&new.first_group_id)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let group = insert_group(
                    &mut tx,
                    &new.first_group_id,
                    &NewBillingGroup {
                        account_id: new.account_id.clone(),
                        billing_group_name: new.first_group_name.clone(),
                        billing_currency: new.billing_currency.clone(),
                    },
                    actor,
                    at,
                )
                .await?;
                insert_event(
                    &mut tx,
                    &group.billing_group_id,
                    &group.account_id,
                    actor,
                    "primary_billing_group_changed",
                    &format!("Set as the primary billing group of account '{}'", account.account_name),
                    None,
                    None,
                    at,
                )
                .await?;
                tx.commit().await?;
                Ok((account, group))
            }

            async fn add_member(
                &self,
                account_id: &str,
                user_id: &str,
                role: Role,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO memberships (user_id, account_id, role, create_time) VALUES ($1, $2, $3, $4)",
                )
                .bind(user_id)
                .bind(account_id)
                .bind(role.as_str())
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn member_role(&self, user_id: &str, account_id: &str) -> StoreResult<Option<Role>> {
                let role: Option<String> = sqlx::query_scalar(
                    "SELECT role FROM memberships WHERE user_id = $1 AND account_id = $2",
                )
                .bind(user_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
                role.map(|r| Role::parse(&r).ok_or(StoreError::Corrupt(format!("role '{r}'"))))
                    .transpose()
            }

            async fn accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<MemberAccountRecord>> {
                Ok(sqlx::query_as::<_, MemberAccountRecord>(
                    "SELECT a.account_id, a.account_name, a.primary_billing_group_id, m.role,
                            (SELECT COUNT(*) FROM billing_groups g
                              WHERE g.account_id = a.account_id AND g.group_state = 'active') AS billing_group_count
                     FROM memberships m JOIN accounts a ON a.account_id = m.account_id
                     WHERE m.user_id = $1
                     ORDER BY a.account_name, a.account_id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn account(&self, account_id: &str) -> StoreResult<Option<AccountRecord>> {
                Ok(sqlx::query_as::<_, AccountRecord>(
                    "SELECT account_id, account_name, primary_billing_group_id, create_time, update_time
                     FROM accounts WHERE account_id = $1",
                )
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_billing_group(
                &self,
                id: &str,
                new: &NewBillingGroup,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<BillingGroupRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                let group = insert_group(&mut tx, id, new, actor, at).await?;
                tx.commit().await?;
                Ok(group)
            }

            async fn billing_group(&self, billing_group_id: &str) -> StoreResult<Option<BillingGroupRecord>> {
                Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM billing_groups WHERE billing_group_id = $1"
                ))
                .bind(billing_group_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn billing_groups_of_account(
                &self,
                account_id: &str,
            ) -> StoreResult<Vec<BillingGroupRecord>> {
                Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM billing_groups
                     WHERE account_id = $1 AND group_state = 'active'
                     ORDER BY billing_group_name, billing_group_id"
                ))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn groups_of_user(&self, user_id: &str) -> StoreResult<Vec<BillingGroupRecord>> {
                Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM billing_groups
                     WHERE group_state = 'active'
                       AND account_id IN (SELECT account_id FROM memberships WHERE user_id = $1)
                     ORDER BY account_id, billing_group_name, billing_group_id"
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn deleted_groups_of_account(&self, account_id: &str) -> StoreResult<Vec<BillingGroupRecord>> {
                Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM billing_groups
                     WHERE account_id = $1 AND group_state = 'deleted'
                     ORDER BY delete_time DESC, billing_group_id"
                ))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn group_summaries(&self, account_id: &str) -> StoreResult<Vec<GroupSummaryRecord>> {
                Ok(sqlx::query_as::<_, GroupSummaryRecord>(&format!(
                    "SELECT {GROUP_COLUMNS},
                            (SELECT COUNT(*) FROM projects p WHERE p.billing_group_id = billing_groups.billing_group_id) AS project_count
                     FROM billing_groups
                     WHERE account_id = $1 AND group_state = 'active'
                     ORDER BY billing_group_name, billing_group_id"
                ))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn rename_billing_group(
                &self,
                billing_group_id: &str,
                new_name: &str,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<BillingGroupRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                let before = lock_group(&mut tx, billing_group_id).await?;
                let after = sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "UPDATE billing_groups SET billing_group_name = $2, update_time = $3
                     WHERE billing_group_id = $1 RETURNING {GROUP_COLUMNS}"
                ))
                .bind(billing_group_id)
                .bind(new_name)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let details = serde_json::json!({
                    "before": {"billing_group_name": before.billing_group_name},
                    "after": {"billing_group_name": after.billing_group_name},
                });
                insert_event(
                    &mut tx,
                    billing_group_id,
                    &after.account_id,
                    actor,
                    "billing_group_renamed",
                    &format!("Renamed from '{}' to '{}'", before.billing_group_name, after.billing_group_name),
                    None,
                    Some(&details),
                    at,
                )
                .await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn delete_billing_group(
                &self,
                billing_group_id: &str,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let group = lock_group(&mut tx, billing_group_id).await?;
                if group.group_state == "deleted" {
                    return Err(StoreError::NotFound);
                }
                // The schema's trigger refuses a group with projects or the
                // primary group; the row lock orders this against moves.
                sqlx::query(
                    "UPDATE billing_groups SET group_state = 'deleted', delete_time = $2, update_time = $2
                     WHERE billing_group_id = $1",
                )
                .bind(billing_group_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                insert_event(
                    &mut tx,
                    billing_group_id,
                    &group.account_id,
                    actor,
                    "billing_group_deleted",
                    &format!("Billing group '{}' deleted", group.billing_group_name),
                    None,
                    None,
                    at,
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_primary_billing_group(
                &self,
                account_id: &str,
                billing_group_id: &str,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let previous: String = sqlx::query_scalar(&format!(
                    "SELECT primary_billing_group_id FROM accounts WHERE account_id = $1{FOR_UPDATE}"
                ))
                .bind(account_id)
                .fetch_one(&mut *tx)
                .await?;
                if previous == billing_group_id {
                    return Ok(());
                }
                sqlx::query(
                    "UPDATE accounts SET primary_billing_group_id = $2, update_time = $3 WHERE account_id = $1",
                )
                .bind(account_id)
                .bind(billing_group_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let details = serde_json::json!({
                    "before": {"primary_billing_group_id": previous},
                    "after": {"primary_billing_group_id": billing_group_id},
                });
                insert_event(&mut tx, billing_group_id, account_id, actor, "primary_billing_group_changed",
                    "Set as the account's primary billing group", None, Some(&details), at).await?;
                insert_event(&mut tx, &previous, account_id, actor, "primary_billing_group_changed",
                    "No longer the account's primary billing group", None, Some(&details), at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_billing_info(
                &self,
                billing_group_id: &str,
                update: &BillingInfoUpdate,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<BillingGroupRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                let before = lock_group(&mut tx, billing_group_id).await?;
                if before.group_state == "deleted" {
                    return Err(StoreError::NotFound);
                }
                let emails = serde_json::to_string(&update.billing_emails).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let lines = serde_json::to_string(&update.address_lines).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let card = update.card.as_ref();
                let after = sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "UPDATE billing_groups SET billing_currency = $2, billing_emails = $3, billing_extra_text = $4,
                        company = $5, address_lines = $6, city = $7, state = $8, zip_code = $9,
                        country_code = $10, vat_id = $11, payment_method = $12, card_brand = $13,
                        card_last4 = $14, card_exp_month = $15, card_exp_year = $16, card_name = $17,
                        update_time = $18
                     WHERE billing_group_id = $1 RETURNING {GROUP_COLUMNS}"
                ))
                .bind(billing_group_id)
                .bind(&update.billing_currency)
                .bind(emails)
                .bind(&update.billing_extra_text)
                .bind(&update.company)
                .bind(lines)
                .bind(&update.city)
                .bind(&update.state)
                .bind(&update.zip_code)
                .bind(&update.country_code)
                .bind(&update.vat_id)
                .bind(&update.payment_method)
                .bind(card.map(|c| c.brand.clone()))
                .bind(card.map(|c| c.last4.clone()))
                .bind(card.map(|c| c.exp_month))
                .bind(card.map(|c| c.exp_year))
                .bind(card.map(|c| c.name.clone()))
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let details = $crate::server::store::billing_info_changes(&before, &after);
                insert_event(
                    &mut tx,
                    billing_group_id,
                    &after.account_id,
                    actor,
                    "billing_info_changed",
                    &$crate::server::store::describe_changes(&details),
                    None,
                    Some(&details),
                    at,
                )
                .await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn move_project(
                &self,
                project_name: &str,
                to_group_id: &str,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<ProjectRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                let (account_id, from_group_id): (String, String) = sqlx::query_as(&format!(
                    "SELECT account_id, billing_group_id FROM projects WHERE project_name = $1{FOR_UPDATE}"
                ))
                .bind(project_name)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                if from_group_id == to_group_id {
                    return Err(StoreError::Violation(Violation::AlreadyInGroup));
                }
                let from_group = lock_group(&mut tx, &from_group_id).await?;
                let to_group = lock_group(&mut tx, to_group_id).await?;
                // The foreign key and triggers refuse another account's group
                // or a deleted one.
                sqlx::query("UPDATE projects SET billing_group_id = $2 WHERE project_name = $1")
                    .bind(project_name)
                    .bind(to_group_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE project_group_history SET valid_to = $2 WHERE project_name = $1 AND valid_to IS NULL",
                )
                .bind(project_name)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO project_group_history (project_name, billing_group_id, valid_from) VALUES ($1, $2, $3)",
                )
                .bind(project_name)
                .bind(to_group_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                bump_usage_version(&mut tx, &account_id).await?;
                let details = serde_json::json!({
                    "before": {"billing_group_id": from_group_id, "billing_group_name": from_group.billing_group_name},
                    "after": {"billing_group_id": to_group_id, "billing_group_name": to_group.billing_group_name},
                });
                insert_event(&mut tx, &from_group_id, &account_id, actor, "project_moved_out",
                    &format!("Project '{project_name}' moved to billing group '{}'", to_group.billing_group_name),
                    Some(project_name), Some(&details), at).await?;
                insert_event(&mut tx, to_group_id, &account_id, actor, "project_moved_in",
                    &format!("Project '{project_name}' moved in from billing group '{}'", from_group.billing_group_name),
                    Some(project_name), Some(&details), at).await?;
                let project = sqlx::query_as::<_, ProjectRecord>(&project_by_name())
                    .bind(project_name)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(project)
            }

            async fn projects_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<ProjectRecord>> {
                Ok(sqlx::query_as::<_, ProjectRecord>(&format!(
                    "SELECT {PROJECT_COLUMNS} FROM projects p
                     JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                     WHERE p.billing_group_id = $1
                     ORDER BY p.project_name"
                ))
                .bind(billing_group_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn projects_of_account(&self, account_id: &str) -> StoreResult<Vec<ProjectRecord>> {
                Ok(sqlx::query_as::<_, ProjectRecord>(&format!(
                    "SELECT {PROJECT_COLUMNS} FROM projects p
                     JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                     WHERE p.account_id = $1
                     ORDER BY p.project_name"
                ))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_project(
                &self,
                new: &NewProject,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<ProjectRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                sqlx::query(
                    "INSERT INTO projects (project_name, account_id, billing_group_id, default_cloud, create_time)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&new.project_name)
                .bind(&new.account_id)
                .bind(&new.billing_group_id)
                .bind(&new.default_cloud)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO project_group_history (project_name, billing_group_id, valid_from)
                     VALUES ($1, $2, $3)",
                )
                .bind(&new.project_name)
                .bind(&new.billing_group_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                bump_usage_version(&mut tx, &new.account_id).await?;
                insert_event(
                    &mut tx,
                    &new.billing_group_id,
                    &new.account_id,
                    actor,
                    "project_added",
                    &format!("Project '{}' created in this billing group", new.project_name),
                    Some(&new.project_name),
                    None,
                    at,
                )
                .await?;
                let project = sqlx::query_as::<_, ProjectRecord>(&project_by_name())
                    .bind(&new.project_name)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(project)
            }

            async fn project(&self, project_name: &str) -> StoreResult<Option<ProjectRecord>> {
                Ok(sqlx::query_as::<_, ProjectRecord>(&project_by_name())
                    .bind(project_name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn project_names_of_user(&self, user_id: &str, limit: i64) -> StoreResult<(Vec<String>, i64)> {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT p.project_name FROM projects p
                     JOIN accounts a ON a.account_id = p.account_id
                     JOIN memberships m ON m.account_id = p.account_id AND m.user_id = $1
                     ORDER BY a.account_name, a.account_id, p.project_name
                     LIMIT $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM projects p
                     JOIN memberships m ON m.account_id = p.account_id AND m.user_id = $1",
                )
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
                Ok((names, total))
            }

            async fn projects_of_user(&self, user_id: &str) -> StoreResult<Vec<ProjectRecord>> {
                Ok(sqlx::query_as::<_, ProjectRecord>(&format!(
                    "SELECT {PROJECT_COLUMNS} FROM projects p
                     JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                     JOIN memberships m ON m.account_id = p.account_id AND m.user_id = $1
                     ORDER BY p.account_id, p.project_name"
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn project_group_history(
                &self,
                project_name: &str,
            ) -> StoreResult<Vec<GroupMembershipRecord>> {
                Ok(sqlx::query_as::<_, GroupMembershipRecord>(
                    "SELECT project_name, billing_group_id, valid_from, valid_to
                     FROM project_group_history WHERE project_name = $1 ORDER BY valid_from",
                )
                .bind(project_name)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_service(
                &self,
                id: &str,
                new: &NewService,
                at: DateTime<Utc>,
            ) -> StoreResult<ServiceRecord> {
                Ok(sqlx::query_as::<_, ServiceRecord>(
                    "INSERT INTO services (service_id, project_name, service_name, service_type, plan, cloud_name, hourly_price_usd, create_time)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     RETURNING service_id, project_name, service_name, service_type, plan, cloud_name, hourly_price_usd, create_time",
                )
                .bind(id)
                .bind(&new.project_name)
                .bind(&new.service_name)
                .bind(&new.service_type)
                .bind(&new.plan)
                .bind(&new.cloud_name)
                .bind(DbDecimal(new.hourly_price_usd))
                .bind(at)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn record_service_run(
                &self,
                service_id: &str,
                started_at: DateTime<Utc>,
                end: Option<(DateTime<Utc>, RunEnd)>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                sqlx::query(
                    "INSERT INTO service_runs (service_id, started_at, ended_at, end_reason) VALUES ($1, $2, $3, $4)",
                )
                .bind(service_id)
                .bind(started_at)
                .bind(end.map(|(at, _)| at))
                .bind(end.map(|(_, reason)| reason.as_str()))
                .execute(&mut *tx)
                .await?;
                bump_usage_of_service(&mut tx, service_id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn service_runs(&self, service_id: &str) -> StoreResult<Vec<ServiceRunRecord>> {
                Ok(sqlx::query_as::<_, ServiceRunRecord>(
                    "SELECT service_id, started_at, ended_at, end_reason FROM service_runs
                     WHERE service_id = $1 ORDER BY started_at",
                )
                .bind(service_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn services_of_project(&self, project_name: &str) -> StoreResult<Vec<ServiceStateRecord>> {
                Ok(sqlx::query_as::<_, ServiceStateRecord>(
                    "SELECT s.service_id, s.project_name, s.service_name, s.service_type, s.plan,
                            s.cloud_name, s.hourly_price_usd,
                            CASE WHEN r.service_id IS NULL THEN 'never_started'
                                 WHEN r.ended_at IS NULL THEN 'running'
                                 ELSE r.end_reason END AS state
                     FROM services s
                     LEFT JOIN service_runs r ON r.service_id = s.service_id
                      AND r.started_at = (SELECT MAX(started_at) FROM service_runs x WHERE x.service_id = s.service_id)
                     WHERE s.project_name = $1
                     ORDER BY s.service_name",
                )
                .bind(project_name)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn account_usage(
                &self,
                account_id: &str,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)> {
                let memberships = sqlx::query_as::<_, GroupMembershipRecord>(
                    "SELECT h.project_name, h.billing_group_id, h.valid_from, h.valid_to
                     FROM project_group_history h JOIN projects p ON p.project_name = h.project_name
                     WHERE p.account_id = $1 AND h.valid_from < $3 AND (h.valid_to IS NULL OR h.valid_to > $2)
                     ORDER BY h.project_name, h.valid_from",
                )
                .bind(account_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                let runs = sqlx::query_as::<_, PricedRunRecord>(&format!(
                    "SELECT {PRICED_RUN_COLUMNS}
                     FROM service_runs r
                     JOIN services s ON s.service_id = r.service_id
                     JOIN projects p ON p.project_name = s.project_name
                     WHERE p.account_id = $1 AND r.started_at < $3 AND (r.ended_at IS NULL OR r.ended_at > $2)
                     ORDER BY s.project_name, s.service_name, r.started_at"
                ))
                .bind(account_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                Ok((memberships, runs))
            }

            async fn group_usage(
                &self,
                billing_group_id: &str,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)> {
                // The running month is read on every group page: it is kept
                // per group while the account's usage version is unchanged.
                // The cache holds the whole month, cut to [from, to) here.
                let (month_start, month_end) = month_bounds(from);
                let cacheable = from == month_start && to <= month_end;
                let version: Option<i64> = if cacheable {
                    sqlx::query_scalar(
                        "SELECT a.usage_version FROM billing_groups g
                         JOIN accounts a ON a.account_id = g.account_id
                         WHERE g.billing_group_id = $1",
                    )
                    .bind(billing_group_id)
                    .fetch_optional(&self.pool)
                    .await?
                } else {
                    None
                };
                let usage = match version.and_then(|v| self.usage_cache.get(billing_group_id, month_start, v)) {
                    Some(usage) => usage,
                    None => {
                        let upper = if cacheable { month_end } else { to };
                        let usage = std::sync::Arc::new(
                            fetch_group_usage(&self.pool, billing_group_id, from, upper).await?,
                        );
                        if let Some(version) = version {
                            self.usage_cache.put(billing_group_id, month_start, version, usage.clone());
                        }
                        usage
                    }
                };
                let (memberships, runs) = usage.as_ref();
                Ok((
                    memberships
                        .iter()
                        .filter(|m| m.valid_from < to && m.valid_to.is_none_or(|end| end > from))
                        .cloned()
                        .collect(),
                    runs.iter()
                        .filter(|r| r.started_at < to && r.ended_at.is_none_or(|end| end > from))
                        .cloned()
                        .collect(),
                ))
            }

            async fn set_exchange_rate(
                &self,
                currency: &str,
                valid_from: NaiveDate,
                usd_rate: Decimal,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO exchange_rates (currency, valid_from, usd_rate) VALUES ($1, $2, $3)
                     ON CONFLICT (currency, valid_from) DO UPDATE SET usd_rate = excluded.usd_rate",
                )
                .bind(currency)
                .bind(valid_from)
                .bind(DbDecimal(usd_rate))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn exchange_rate_on(
                &self,
                currency: &str,
                day: NaiveDate,
            ) -> StoreResult<Option<Decimal>> {
                let rate: Option<DbDecimal> = sqlx::query_scalar(
                    "SELECT usd_rate FROM exchange_rates WHERE currency = $1 AND valid_from <= $2
                     ORDER BY valid_from DESC LIMIT 1",
                )
                .bind(currency)
                .bind(day)
                .fetch_optional(&self.pool)
                .await?;
                Ok(rate.map(|r| r.0))
            }

            async fn groups_to_invoice(
                &self,
                period_begin: DateTime<Utc>,
                period_end: DateTime<Utc>,
            ) -> StoreResult<Vec<BillingGroupRecord>> {
                Ok(sqlx::query_as::<_, BillingGroupRecord>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM billing_groups g
                     WHERE g.create_time < $2
                       AND (g.group_state = 'active' OR g.delete_time > $1)
                       AND NOT EXISTS (SELECT 1 FROM invoices i
                                       WHERE i.billing_group_id = g.billing_group_id AND i.period_begin = $1)
                     ORDER BY g.billing_group_id"
                ))
                .bind(period_begin)
                .bind(period_end)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn usage_between(
                &self,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)> {
                // A million rows at a month close: each backend reads them
                // its own fastest way (`read_usage_between` in its module).
                read_usage_between(&self.pool, from, to).await
            }

            async fn issue_invoices(
                &self,
                invoices: &[NewInvoice],
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<Vec<String>> {
                let mut tx = self.pool.begin_with($begin).await?;
                // Each backend writes a batch its own fastest way
                // (`issue_invoices_in` in its module), through `issue_invoice`
                // or the same statements.
                let issued = issue_invoices_in(&mut tx, invoices, actor, at).await?;
                tx.commit().await?;
                Ok(issued)
            }

            async fn record_month_close(
                &self,
                period_begin: DateTime<Utc>,
                invoices_issued: i64,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO month_closes (period_begin, closed_at, invoices_issued) VALUES ($1, $2, $3)
                     ON CONFLICT (period_begin) DO UPDATE
                     SET closed_at = excluded.closed_at,
                         invoices_issued = month_closes.invoices_issued + excluded.invoices_issued",
                )
                .bind(period_begin)
                .bind(at)
                .bind(invoices_issued)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn month_closed(&self, period_begin: DateTime<Utc>) -> StoreResult<bool> {
                let found: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM month_closes WHERE period_begin = $1")
                        .bind(period_begin)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(found > 0)
            }

            async fn acquire_close_lease(
                &self,
                period_begin: DateTime<Utc>,
                holder: &str,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> StoreResult<bool> {
                // Inserted, or taken over when lapsed (or already ours); a
                // running lease of another holder returns no row.
                let taken: Option<String> = sqlx::query_scalar(
                    "INSERT INTO month_close_leases (period_begin, holder, expires_at) VALUES ($1, $2, $3)
                     ON CONFLICT (period_begin) DO UPDATE
                     SET holder = excluded.holder, expires_at = excluded.expires_at
                     WHERE month_close_leases.expires_at <= $4 OR month_close_leases.holder = excluded.holder
                     RETURNING holder",
                )
                .bind(period_begin)
                .bind(holder)
                .bind(until)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(taken.as_deref() == Some(holder))
            }

            async fn release_close_lease(&self, period_begin: DateTime<Utc>, holder: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM month_close_leases WHERE period_begin = $1 AND holder = $2")
                    .bind(period_begin)
                    .bind(holder)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn invoices_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<InvoiceRecord>> {
                Ok(sqlx::query_as::<_, InvoiceRecord>(&format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices WHERE billing_group_id = $1
                     ORDER BY period_begin DESC"
                ))
                .bind(billing_group_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn invoice(&self, invoice_number: &str) -> StoreResult<Option<InvoiceRecord>> {
                Ok(sqlx::query_as::<_, InvoiceRecord>(&format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices WHERE invoice_number = $1"
                ))
                .bind(invoice_number)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn invoice_lines(&self, invoice_number: &str) -> StoreResult<Vec<InvoiceLineRecord>> {
                Ok(sqlx::query_as::<_, InvoiceLineRecord>(&format!(
                    "SELECT {INVOICE_LINE_COLUMNS} FROM invoice_lines WHERE invoice_number = $1 ORDER BY line_no"
                ))
                .bind(invoice_number)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn set_invoice_state(
                &self,
                invoice_number: &str,
                state: &str,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<InvoiceRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                let before = sqlx::query_as::<_, InvoiceRecord>(&format!(
                    "SELECT {INVOICE_COLUMNS} FROM invoices WHERE invoice_number = $1{FOR_UPDATE}"
                ))
                .bind(invoice_number)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let group = lock_group(&mut tx, &before.billing_group_id).await?;
                let after = sqlx::query_as::<_, InvoiceRecord>(&format!(
                    "UPDATE invoices SET state = $2 WHERE invoice_number = $1 RETURNING {INVOICE_COLUMNS}"
                ))
                .bind(invoice_number)
                .bind(state)
                .fetch_one(&mut *tx)
                .await?;
                let details = serde_json::json!({
                    "before": {"state": before.state},
                    "after": {"state": after.state},
                });
                insert_event(
                    &mut tx,
                    &group.billing_group_id,
                    &group.account_id,
                    actor,
                    "invoice_state_changed",
                    &format!("Invoice {invoice_number} changed from {} to {state}", before.state),
                    None,
                    Some(&details),
                    at,
                )
                .await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn monthly_usd_of_group(
                &self,
                billing_group_id: &str,
                from: DateTime<Utc>,
            ) -> StoreResult<Vec<MonthlyUsdRecord>> {
                Ok(sqlx::query_as::<_, MonthlyUsdRecord>(
                    "SELECT period_begin, total_usd FROM invoices
                     WHERE billing_group_id = $1 AND period_begin >= $2 ORDER BY period_begin",
                )
                .bind(billing_group_id)
                .bind(from)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn power_service(&self, service_id: &str, on: bool, at: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let open: Option<DateTime<Utc>> = sqlx::query_scalar(&format!(
                    "SELECT started_at FROM service_runs WHERE service_id = $1 AND ended_at IS NULL{FOR_UPDATE}"
                ))
                .bind(service_id)
                .fetch_optional(&mut *tx)
                .await?;
                match (on, open) {
                    (true, Some(_)) => return Err(StoreError::Violation(Violation::ServiceAlreadyRunning)),
                    (false, None) => return Err(StoreError::Violation(Violation::ServiceNotRunning)),
                    (true, None) => {
                        sqlx::query("INSERT INTO service_runs (service_id, started_at) VALUES ($1, $2)")
                            .bind(service_id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                    }
                    (false, Some(started_at)) => {
                        // A run ends after it starts, even when the clock says otherwise.
                        let ended_at = at.max(started_at + chrono::Duration::milliseconds(1));
                        sqlx::query(
                            "UPDATE service_runs SET ended_at = $3, end_reason = 'powered_off'
                             WHERE service_id = $1 AND started_at = $2",
                        )
                        .bind(service_id)
                        .bind(started_at)
                        .bind(ended_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                bump_usage_of_service(&mut tx, service_id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_credits(&self, credits: &[NewCredit], at: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                for credit in credits {
                    sqlx::query(
                        "INSERT INTO credits (code, credit_type, value_usd, remaining_value_usd, start_time,
                             expire_time, issue_time)
                         VALUES ($1, $2, $3, $3, $4, $5, $6)",
                    )
                    .bind(&credit.code)
                    .bind(&credit.credit_type)
                    .bind(DbDecimal(credit.value_usd))
                    .bind(credit.start_time)
                    .bind(credit.expire_time)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn credit(&self, code: &str) -> StoreResult<Option<CreditRecord>> {
                Ok(sqlx::query_as::<_, CreditRecord>(&format!(
                    "SELECT {CREDIT_COLUMNS} FROM credits WHERE code = $1"
                ))
                .bind(code)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn claim_credit(
                &self,
                code: &str,
                billing_group_id: &str,
                earmarked_project_name: Option<&str>,
                user_id: &str,
                actor: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<CreditRecord> {
                let mut tx = self.pool.begin_with($begin).await?;
                let group = lock_group(&mut tx, billing_group_id).await?;
                if group.group_state != "active" {
                    return Err(StoreError::Violation(Violation::GroupDeleted));
                }
                let credit = sqlx::query_as::<_, CreditRecord>(&format!(
                    "SELECT {CREDIT_COLUMNS} FROM credits WHERE code = $1{FOR_UPDATE}"
                ))
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                if credit.billing_group_id.is_some() {
                    return Err(StoreError::Violation(Violation::CreditAlreadyClaimed));
                }
                if credit.expire_time.is_some_and(|expiry| expiry <= at) {
                    return Err(StoreError::Violation(Violation::CreditExpired));
                }
                // The guard on billing_group_id makes a claim once-only even
                // where the read above took no lock.
                let claimed = sqlx::query_as::<_, CreditRecord>(&format!(
                    "UPDATE credits SET billing_group_id = $2, earmarked_project_name = $3,
                         claim_time = $4, claimed_by = $5
                     WHERE code = $1 AND billing_group_id IS NULL
                     RETURNING {CREDIT_COLUMNS}"
                ))
                .bind(code)
                .bind(billing_group_id)
                .bind(earmarked_project_name)
                .bind(at)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::Violation(Violation::CreditAlreadyClaimed))?;
                let details = serde_json::json!({
                    "after": {
                        "code": claimed.code,
                        "credit_type": claimed.credit_type,
                        "value_usd": claimed.value_usd.0.to_string(),
                        "expire_time": claimed.expire_time,
                        "earmarked_project_name": claimed.earmarked_project_name,
                    }
                });
                let earmark = earmarked_project_name
                    .map(|p| format!(", earmarked for {p}"))
                    .unwrap_or_default();
                insert_event(
                    &mut tx,
                    billing_group_id,
                    &group.account_id,
                    actor,
                    "credit_claimed",
                    &format!(
                        "Credit {} claimed: {} USD ({}){earmark}",
                        crate::model::credits::display_code(&claimed.code),
                        claimed.value_usd.0,
                        claimed.credit_type
                    ),
                    earmarked_project_name,
                    Some(&details),
                    at,
                )
                .await?;
                tx.commit().await?;
                Ok(claimed)
            }

            async fn credits_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<CreditRecord>> {
                Ok(sqlx::query_as::<_, CreditRecord>(&format!(
                    "SELECT {CREDIT_COLUMNS} FROM credits WHERE billing_group_id = $1
                     ORDER BY expire_time IS NULL, expire_time, claim_time, code"
                ))
                .bind(billing_group_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claimed_credits(&self) -> StoreResult<Vec<CreditRecord>> {
                Ok(sqlx::query_as::<_, CreditRecord>(&format!(
                    "SELECT {CREDIT_COLUMNS} FROM credits WHERE billing_group_id IS NOT NULL
                     ORDER BY billing_group_id, code"
                ))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn applied_credits_of_group(
                &self,
                billing_group_id: &str,
                limit: i64,
            ) -> StoreResult<Vec<AppliedCreditRecord>> {
                Ok(sqlx::query_as::<_, AppliedCreditRecord>(
                    "SELECT i.invoice_number, i.period_begin, l.credit_code, l.project_name,
                            l.line_total_usd, l.line_total_local, l.local_currency
                     FROM invoice_lines l JOIN invoices i ON i.invoice_number = l.invoice_number
                     WHERE i.billing_group_id = $1 AND l.line_type = 'credit_consumption'
                       AND l.credit_code IS NOT NULL
                     ORDER BY i.period_begin DESC, l.line_no
                     LIMIT $2",
                )
                .bind(billing_group_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn record_claim_failure(&self, user_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                // Only the last day matters for the limit; older rows go.
                sqlx::query("DELETE FROM credit_claim_failures WHERE user_id = $1 AND failed_at < $2")
                    .bind(user_id)
                    .bind(at - chrono::Duration::days(1))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO credit_claim_failures (user_id, failed_at) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim_failures_since(&self, user_id: &str, since: DateTime<Utc>) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM credit_claim_failures WHERE user_id = $1 AND failed_at >= $2",
                )
                .bind(user_id)
                .bind(since)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn events(&self, billing_group_id: &str, filter: &EventFilter) -> StoreResult<Vec<EventRecord>> {
                Ok(sqlx::query_as::<_, EventRecord>(
                    "SELECT log_entry_id, billing_group_id, account_id, actor, event_type, event_desc,
                            project_name, details, create_time
                     FROM events
                     WHERE billing_group_id = $1
                       AND ($2 IS NULL OR log_entry_id < $2)
                       AND ($3 IS NULL OR event_type = $3)
                       AND ($4 IS NULL OR project_name = $4)
                     ORDER BY log_entry_id DESC LIMIT $5",
                )
                .bind(billing_group_id)
                .bind(filter.before_id)
                .bind(filter.event_type.as_deref())
                .bind(filter.project_name.as_deref())
                .bind(filter.limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn event_projects_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT project_name FROM events
                     WHERE billing_group_id = $1 AND project_name IS NOT NULL ORDER BY project_name",
                )
                .bind(billing_group_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn event_types_of_group(&self, billing_group_id: &str) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT event_type FROM events WHERE billing_group_id = $1 ORDER BY event_type",
                )
                .bind(billing_group_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn events_of_group(
                &self,
                billing_group_id: &str,
                limit: i64,
            ) -> StoreResult<Vec<EventRecord>> {
                Ok(sqlx::query_as::<_, EventRecord>(
                    "SELECT log_entry_id, billing_group_id, account_id, actor, event_type, event_desc,
                            project_name, details, create_time
                     FROM events WHERE billing_group_id = $1
                     ORDER BY log_entry_id DESC LIMIT $2",
                )
                .bind(billing_group_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }

        const GROUP_COLUMNS: &str = "billing_group_id, account_id, billing_group_name, billing_currency,
            billing_emails, billing_extra_text, company, address_lines, city, state, zip_code,
            country_code, vat_id, payment_method, card_brand, card_last4, card_exp_month,
            card_exp_year, card_name, group_state, create_time, update_time";

        use super::sql::close_sql::PRICED_RUN_COLUMNS;

        const PROJECT_COLUMNS: &str = "p.project_name, p.account_id, p.billing_group_id,
            g.billing_group_name, p.default_cloud, p.create_time";

        /// One project with its group's name, by project name ($1).
        fn project_by_name() -> String {
            format!(
                "SELECT {PROJECT_COLUMNS} FROM projects p
                 JOIN billing_groups g ON g.billing_group_id = p.billing_group_id
                 WHERE p.project_name = $1"
            )
        }

        const FOR_UPDATE: &str = $for_update;

        /// The calendar month (UTC) that starts at or contains `at`.
        fn month_bounds(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
            crate::server::billing::costs::month_of(at)
        }

        /// The memberships and runs of the projects that were in the group
        /// during [from, to) (two queries).
        async fn fetch_group_usage(
            pool: &sqlx::Pool<<$conn as sqlx::Connection>::Database>,
            billing_group_id: &str,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
        ) -> StoreResult<(Vec<GroupMembershipRecord>, Vec<PricedRunRecord>)> {
            let memberships = sqlx::query_as::<_, GroupMembershipRecord>(
                "SELECT project_name, billing_group_id, valid_from, valid_to
                 FROM project_group_history
                 WHERE billing_group_id = $1 AND valid_from < $3 AND (valid_to IS NULL OR valid_to > $2)
                 ORDER BY project_name, valid_from",
            )
            .bind(billing_group_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            let runs = sqlx::query_as::<_, PricedRunRecord>(&format!(
                "SELECT {PRICED_RUN_COLUMNS}
                 FROM service_runs r
                 JOIN services s ON s.service_id = r.service_id
                 WHERE s.project_name IN (
                         SELECT h.project_name FROM project_group_history h
                         WHERE h.billing_group_id = $1 AND h.valid_from < $3
                           AND (h.valid_to IS NULL OR h.valid_to > $2))
                   AND r.started_at < $3 AND (r.ended_at IS NULL OR r.ended_at > $2)
                 ORDER BY s.project_name, s.service_name, r.started_at"
            ))
            .bind(billing_group_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
            Ok((memberships, runs))
        }

        /// Marks the account's usage as changed (same transaction as the change).
        async fn bump_usage_version(tx: &mut $conn, account_id: &str) -> StoreResult<()> {
            sqlx::query("UPDATE accounts SET usage_version = usage_version + 1 WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            Ok(())
        }

        async fn bump_usage_of_service(tx: &mut $conn, service_id: &str) -> StoreResult<()> {
            sqlx::query(
                "UPDATE accounts SET usage_version = usage_version + 1
                 WHERE account_id = (SELECT p.account_id FROM services s
                                     JOIN projects p ON p.project_name = s.project_name
                                     WHERE s.service_id = $1)",
            )
            .bind(service_id)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }


        const INVOICE_COLUMNS: &str = "invoice_number, billing_group_id, sequence_number, period_begin,
            period_end, state, currency, exchange_rate, vat_rate, vat_note, total_usd, total_vat_zero,
            total_inc_vat, issue_date, due_date, download_cookie, payment_method, customer, create_time";

        const INVOICE_LINE_COLUMNS: &str = "line_no, line_type, description, project_name, service_name,
            service_type, service_plan, cloud_name, hours, timestamp_begin, timestamp_end,
            line_total_usd, line_total_local, local_currency, credit_code";

        const CREDIT_COLUMNS: &str = "code, credit_type, value_usd, remaining_value_usd, start_time,
            expire_time, issue_time, billing_group_id, earmarked_project_name, claim_time";

        /// Numbers and writes one invoice with its lines, credit uses and
        /// `invoice_issued` event; `None` when its group's month already has
        /// an invoice (a second close, or a second instance).
        async fn issue_invoice(
            tx: &mut $conn,
            invoice: &NewInvoice,
            actor: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<Option<String>> {
            use super::sql::close_sql;
            let sequence: i64 = sqlx::query_scalar(close_sql::NEXT_SEQUENCE)
                .bind(&invoice.billing_group_id)
                .fetch_one(&mut *tx)
                .await?;
            let number = close_sql::invoice_number(&invoice.billing_group_id, sequence);
            let inserted: Option<String> = sqlx::query_scalar(close_sql::INSERT_INVOICE)
                .bind(&number)
                .bind(&invoice.billing_group_id)
                .bind(sequence)
                .bind(invoice.period_begin)
                .bind(invoice.period_end)
                .bind(&invoice.state)
                .bind(&invoice.currency)
                .bind(DbDecimal(invoice.exchange_rate))
                .bind(DbDecimal(invoice.vat_rate))
                .bind(&invoice.vat_note)
                .bind(DbDecimal(invoice.total_usd))
                .bind(DbDecimal(invoice.total_vat_zero))
                .bind(DbDecimal(invoice.total_inc_vat))
                .bind(invoice.issue_date)
                .bind(invoice.due_date)
                .bind(&invoice.download_cookie)
                .bind(&invoice.payment_method)
                .bind(&invoice.customer)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
            if inserted.is_none() {
                let month_taken: i64 = sqlx::query_scalar(close_sql::MONTH_TAKEN)
                    .bind(&invoice.billing_group_id)
                    .bind(invoice.period_begin)
                    .fetch_one(&mut *tx)
                    .await?;
                if month_taken > 0 {
                    return Ok(None);
                }
                return Err(StoreError::Violation(Violation::Unique("invoices_pkey".into())));
            }
            insert_invoice_lines(&mut *tx, &number, &invoice.lines).await?;
            for credit_use in &invoice.credit_uses {
                use_credit(&mut *tx, invoice, &number, credit_use, actor, at).await?;
            }
            let (description, details) = close_sql::issued_event(invoice, &number);
            insert_event(
                &mut *tx,
                &invoice.billing_group_id,
                &invoice.account_id,
                actor,
                "invoice_issued",
                &description,
                None,
                Some(&details),
                at,
            )
            .await?;
            Ok(Some(number))
        }

        /// Takes an invoice's use of a credit off its remaining value and
        /// writes `credit_consumed`. Refused when the remaining value is not
        /// what the close read (another writer got there first).
        async fn use_credit(
            tx: &mut $conn,
            invoice: &NewInvoice,
            invoice_number: &str,
            credit_use: &CreditUse,
            actor: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            let remaining = credit_use.remaining_before - credit_use.amount_usd;
            let updated = sqlx::query(
                "UPDATE credits SET remaining_value_usd = $3
                 WHERE code = $1 AND billing_group_id = $2 AND remaining_value_usd = $4",
            )
            .bind(&credit_use.code)
            .bind(&invoice.billing_group_id)
            .bind(DbDecimal(remaining))
            .bind(DbDecimal(credit_use.remaining_before))
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() != 1 {
                return Err(StoreError::Violation(Violation::CreditBalanceChanged));
            }
            let details = serde_json::json!({
                "before": {"remaining_value_usd": credit_use.remaining_before.to_string()},
                "after": {
                    "remaining_value_usd": remaining.to_string(),
                    "invoice_number": invoice_number,
                    "consumed_usd": credit_use.amount_usd.to_string(),
                },
            });
            insert_event(
                tx,
                &invoice.billing_group_id,
                &invoice.account_id,
                actor,
                "credit_consumed",
                &format!(
                    "Credit {} paid {} USD of invoice {invoice_number}; {} USD remains",
                    crate::model::credits::display_code(&credit_use.code),
                    credit_use.amount_usd,
                    remaining
                ),
                credit_use.earmarked_project_name.as_deref(),
                Some(&details),
                at,
            )
            .await
        }

        async fn insert_group(
            tx: &mut $conn,
            id: &str,
            new: &NewBillingGroup,
            actor: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<BillingGroupRecord> {
            let group = sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "INSERT INTO billing_groups (billing_group_id, account_id, billing_group_name, billing_currency, create_time, update_time)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 RETURNING {GROUP_COLUMNS}"
            ))
            .bind(id)
            .bind(&new.account_id)
            .bind(&new.billing_group_name)
            .bind(&new.billing_currency)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            insert_event(
                tx,
                id,
                &new.account_id,
                actor,
                "billing_group_created",
                &format!("Billing group '{}' created", new.billing_group_name),
                None,
                None,
                at,
            )
            .await?;
            Ok(group)
        }

        /// Reads a group inside a write transaction, locking its row on
        /// PostgreSQL so that concurrent moves, deletes and edits queue.
        async fn lock_group(tx: &mut $conn, billing_group_id: &str) -> StoreResult<BillingGroupRecord> {
            sqlx::query_as::<_, BillingGroupRecord>(&format!(
                "SELECT {GROUP_COLUMNS} FROM billing_groups WHERE billing_group_id = $1{FOR_UPDATE}"
            ))
            .bind(billing_group_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)
        }

        #[allow(clippy::too_many_arguments)]
        async fn insert_event(
            tx: &mut $conn,
            billing_group_id: &str,
            account_id: &str,
            actor: &str,
            event_type: &str,
            event_desc: &str,
            project_name: Option<&str>,
            details: Option<&serde_json::Value>,
            at: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query(super::sql::INSERT_EVENT)
            .bind(billing_group_id)
            .bind(account_id)
            .bind(actor)
            .bind(event_type)
            .bind(event_desc)
            .bind(project_name)
            .bind(details.map(|d| d.to_string()))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }

        fn new_id() -> String {
            uuid::Uuid::new_v4().to_string()
        }
    };
}

pub(crate) use impl_store;

/// An event row; `$N` in order, so SQLite's own API binds them by position.
pub(super) const INSERT_EVENT: &str =
    "INSERT INTO events (billing_group_id, account_id, actor, event_type, event_desc, project_name, details, create_time)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// What a month close reads and writes, shared by the sqlx path of both
/// backends and SQLite's bulk path (`sqlite_bulk`), so they cannot drift
/// apart. `$N` placeholders; SQLite's own API binds them by name where
/// their first appearance is not in order.
pub(super) mod close_sql {
    use super::super::NewInvoice;

    /// The columns of `PricedRunRecord`, from `service_runs r` and `services s`.
    pub const PRICED_RUN_COLUMNS: &str = "s.project_name, s.service_name, s.service_type, s.plan,
            s.cloud_name, s.hourly_price_usd, r.started_at, r.ended_at";

    /// Every project's memberships overlapping [$1, $2).
    pub const MEMBERSHIPS_BETWEEN: &str =
        "SELECT project_name, billing_group_id, valid_from, valid_to
         FROM project_group_history
         WHERE valid_from < $2 AND (valid_to IS NULL OR valid_to > $1)";

    /// Every priced run overlapping [$1, $2).
    pub fn priced_runs_between() -> String {
        format!(
            "SELECT {PRICED_RUN_COLUMNS}
             FROM service_runs r
             JOIN services s ON s.service_id = r.service_id
             WHERE r.started_at < $2 AND (r.ended_at IS NULL OR r.ended_at > $1)"
        )
    }

    pub const NEXT_SEQUENCE: &str =
        "SELECT COALESCE(MAX(sequence_number), 0) + 1 FROM invoices WHERE billing_group_id = $1";

    /// Returns no row when the group's month (or the number) is taken.
    pub const INSERT_INVOICE: &str =
        "INSERT INTO invoices (invoice_number, billing_group_id, sequence_number, period_begin,
             period_end, state, currency, exchange_rate, vat_rate, vat_note, total_usd,
             total_vat_zero, total_inc_vat, issue_date, due_date, download_cookie,
             payment_method, customer, create_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT DO NOTHING
         RETURNING invoice_number";

    pub const MONTH_TAKEN: &str =
        "SELECT COUNT(*) FROM invoices WHERE billing_group_id = $1 AND period_begin = $2";

    /// Columns of an invoice line, in the order they are bound.
    pub const LINE_COLUMNS: usize = 16;

    /// An insert of `rows` invoice lines: `$N` placeholders, or anonymous
    /// `?` (SQLite finds a named parameter by a linear scan, so hundreds of
    /// `$N` cost O(n²) per statement when bound by name).
    pub fn insert_lines(rows: usize, numbered: bool) -> String {
        let mut sql = String::from(
            "INSERT INTO invoice_lines (invoice_number, line_no, line_type, description, project_name,
                 service_name, service_type, service_plan, cloud_name, hours, timestamp_begin,
                 timestamp_end, line_total_usd, line_total_local, local_currency, credit_code) VALUES ",
        );
        for row in 0..rows {
            if row > 0 {
                sql.push(',');
            }
            sql.push('(');
            for column in 0..LINE_COLUMNS {
                if column > 0 {
                    sql.push(',');
                }
                if numbered {
                    sql.push_str(&format!("${}", row * LINE_COLUMNS + column + 1));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        sql
    }

    /// Sequential per group, readable, and unique across groups: the
    /// group id's first 12 hex digits and the sequence number.
    pub fn invoice_number(billing_group_id: &str, sequence: i64) -> String {
        let prefix: String = billing_group_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        format!("{}-{sequence:04}", prefix.to_ascii_uppercase())
    }

    /// The `invoice_issued` event's description and details.
    pub fn issued_event(invoice: &NewInvoice, number: &str) -> (String, serde_json::Value) {
        let description = format!(
            "Invoice {number} issued for {}: {} {}",
            invoice.period_begin.format("%Y-%m"),
            invoice.total_inc_vat,
            invoice.currency
        );
        let details = serde_json::json!({
            "after": {
                "invoice_number": number,
                "state": invoice.state,
                "total_inc_vat": invoice.total_inc_vat.to_string(),
                "currency": invoice.currency,
            }
        });
        (description, details)
    }
}
