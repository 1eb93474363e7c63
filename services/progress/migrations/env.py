from libs.migrate import run_env
from services.progress.models import Base

run_env(Base.metadata)
