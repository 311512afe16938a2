"""Site as code: a whole site in one YAML file, validated, imported idempotently, exported losslessly."""
