"""`uv run python -m eswi_assets.serving`: the service on ESWI_SERVING_HOST:PORT (127.0.0.1:8080),
serving the latest promoted models of the active profile's model store."""

import uvicorn

from eswi_assets.serving.app import create_app
from eswi_assets.serving.settings import ServingSettings

if __name__ == "__main__":
    serving = ServingSettings()
    uvicorn.run(create_app(serving=serving), host=serving.host, port=serving.port)
