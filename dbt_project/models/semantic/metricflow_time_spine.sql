-- MetricFlow's calendar: one row per UTC day. The range covers any day the pipeline accepts
-- from the API in practice; days outside it still count, they only lose gap filling.
with

days as (

    select unnest(generate_series(date '2000-01-01', date '2099-12-31', interval 1 day)) as day

)

select cast(day as date) as date_day
from days
