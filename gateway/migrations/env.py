from gateway.models import Base
from libs.migrate import run_env

run_env(Base.metadata)
