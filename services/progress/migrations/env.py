import services.progress.practice.models  # noqa: F401  (practice tables in the same metadata)
from libs.migrate import run_env
from services.progress.models import Base

run_env(Base.metadata)
