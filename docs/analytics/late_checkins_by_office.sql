-- Late check-ins per office and month from the daily exports (the attendance table): each
-- date's latest run only (every zone's run repeats the whole date).
WITH latest AS (
  SELECT a.*, max(run_id) OVER (PARTITION BY "date", agency) AS latest_run
  FROM attendance a
)
SELECT agency, office_id, year("date") AS year, month("date") AS month,
       sum(CASE WHEN kind = 'in' THEN 1 ELSE 0 END) AS checkins,
       sum(CASE WHEN kind = 'in' AND late_minutes > 0 THEN 1 ELSE 0 END) AS late_checkins,
       sum(CASE WHEN kind = 'in' THEN coalesce(late_minutes, 0) ELSE 0 END) AS late_minutes,
       sum(CASE WHEN kind = 'day' AND decision = 'absent' THEN 1 ELSE 0 END) AS absences
FROM latest
WHERE run_id = latest_run
GROUP BY agency, office_id, year("date"), month("date")
ORDER BY agency, office_id, year, month
