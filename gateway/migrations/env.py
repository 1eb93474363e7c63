import gateway.registry.models  # noqa: F401  (the registry's tables are in the gateway's metadata)
from gateway.models import Base
from libs.migrate import run_env

run_env(Base.metadata)
