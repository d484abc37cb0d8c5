-- Staff at or over a PP 94/2021 threshold in 2026 (here 3 unexcused absence days: the oral
-- warning): each employee's count as of the latest month recapped, from that month's latest run.
WITH latest AS (
  SELECT r.*, max(run_id) OVER (PARTITION BY year, month, agency) AS latest_run
  FROM recap r
  WHERE year = 2026
), counted AS (
  SELECT agency, year, month, nip, name, unit, absent_year_to_date, discipline_level,
         row_number() OVER (PARTITION BY agency, year, nip ORDER BY month DESC) AS newest
  FROM latest
  WHERE run_id = latest_run
)
SELECT agency, nip, name, unit, month AS as_of_month, absent_year_to_date, discipline_level
FROM counted
WHERE newest = 1 AND absent_year_to_date >= 3
ORDER BY absent_year_to_date DESC, nip
