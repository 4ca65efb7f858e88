"""The optimization launcher and recorder Lambdas (handlers `launcher_function.handler.handler` and
`launcher_function.recorder.handler`); shipped with `workbench_domain/` beside this package."""
