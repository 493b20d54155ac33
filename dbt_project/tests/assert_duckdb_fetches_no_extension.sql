-- DuckDB downloads a missing extension (httpfs for a URL) when a query needs one, unless the
-- profile turns that off (profiles.yml); every extension the project uses is built in. A row
-- here means dbt's connection would reach for the internet.
select
    current_setting('autoinstall_known_extensions') as autoinstall_known_extensions,
    current_setting('autoload_known_extensions') as autoload_known_extensions
where
    current_setting('autoinstall_known_extensions')
    or current_setting('autoload_known_extensions')
