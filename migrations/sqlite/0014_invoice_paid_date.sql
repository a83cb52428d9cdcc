-- The day an admin marked an invoice paid (issue 28: the invoices list
-- shows it). Invoices paid at issue (card, nothing to pay) have none and
-- read their issue date.
ALTER TABLE invoices ADD COLUMN paid_date TEXT;
