{{ config(severity='warn') }}

-- A channel that went quiet on one of the run's days (rpt_quiet_channels): a warning, since
-- a quiet day can be real; the run record and `label-overview status` name each one.
select *
from {{ ref('rpt_quiet_channels') }}
where {{ run_days_predicate('day') }}
