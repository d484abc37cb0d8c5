-- Lateness by unit per month: days late (any TL tier) and left early (any PSW tier), the late
-- share of the days present and the mean allowance cut, from each month's latest recap run.
WITH latest AS (
  SELECT r.*, max(run_id) OVER (PARTITION BY year, month, agency) AS latest_run
  FROM recap r
)
SELECT agency, year, month, unit,
       count(*) AS employees,
       sum(days_present) AS days_present,
       sum(days_late) AS days_late,
       sum(days_early_leave) AS days_early_leave,
       round(CAST(sum(days_late) AS double) / nullif(sum(days_present), 0), 4) AS late_share,
       round(avg(cut_percent), 2) AS mean_cut_percent
FROM latest
WHERE run_id = latest_run
GROUP BY agency, year, month, unit
ORDER BY agency, year, month, unit
