from libs.migrate import run_env
from services.courses.models import Base

run_env(Base.metadata)
