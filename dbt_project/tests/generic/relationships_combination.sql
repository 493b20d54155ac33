{#-
    dbt's `relationships` over a composite key (the same column names on both sides), with
    the parent rows narrowed by `to_condition` (as dbt_utils' `relationships_where`, which
    `dbt deps` would need the network for). On the run's days (`__run_days__`) the parent's
    scan does not grow with history.
-#}
{% test relationships_combination(model, columns, to, to_condition='true') %}
with

child as (

    select {{ columns | join(', ') }}
    from {{ model }}

),

parent as (

    select {{ columns | join(', ') }}
    from {{ to }}
    where {{ with_run_days(to_condition) }}

)

select *
from child
anti join parent using ({{ columns | join(', ') }})
{% endtest %}
