"""The two engines the benchmark runs jobs on, set up on first use under .cache/bench/ (git-ignored).

- PyFlink 2.3: this project's venv (the interpreter running the harness).
- PyFlink 1.18 (`apache-flink==1.18.*`): a separate venv, the only PyFlink Apache's Java Pulsar connector
  (4.1.0-1.18, its last release) runs on. apache-flink 1.18.1 is published as an sdist and needs `pemja==0.3.0`,
  also an sdist whose isolated build pins numpy==1.21.4, which has no Python 3.11 wheel; so numpy<1.25 (wheels
  for 3.11) and the build tools are installed first and pemja is built without build isolation (needs a JDK).
- The Java connector's classpath (benchmarks/java/pom.xml): there is no flink-sql-connector-pulsar fat jar for
  4.1.0-1.18 on Maven Central, so Maven resolves flink-connector-pulsar + pulsar-client-all and their runtime
  dependencies once into .cache/bench/java-lib-<version>/. Flink's own jars come from PyFlink 1.18's lib/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
FLINK118 = "1.18.*"
CONNECTOR_VERSION = "4.1.0-1.18"
POM = Path(__file__).resolve().parent / "java" / "pom.xml"
MAVEN_SETTINGS = ROOT / "devtools" / "pulsar" / "settings.xml"


class EngineError(RuntimeError):
    pass


def java_home() -> str:
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        raise EngineError("a JDK (java) is needed")
    return str(Path(os.path.realpath(java)).parent.parent)


def python_for(engine: str) -> Path:
    """The interpreter of `engine` ("2.3" or "1.18"), creating the 1.18 venv on first use."""
    if engine == "2.3":
        return Path(sys.executable)
    venv = CACHE / "venv-flink118"
    python = venv / "bin" / "python"
    marker = venv / ".complete"
    if marker.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    print(f"creating {venv} with apache-flink=={FLINK118} (once; a few minutes) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "JAVA_HOME": java_home()}
    pip = [str(python), "-m", "pip", "install", "-q"]
    for step in (["--upgrade", "pip"],
                 ["numpy>=1.21.4,<1.25", "setuptools<70", "wheel"],
                 ["--no-build-isolation", "pemja==0.3.0"],
                 [f"apache-flink=={FLINK118}", "numpy<1.25", "pulsar-client>=3.13,<4", "fastavro>=1.13,<2"]):
        done = subprocess.run(pip + step, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineError(f"pip install {' '.join(step)} failed in {venv}:\n{done.stdout[-2000:]}"
                              f"{done.stderr[-3000:]}")
    marker.touch()
    return python


def java_connector_jars() -> list[str]:
    """The Java Pulsar connector and its runtime classpath, resolved with Maven on first use."""
    lib = CACHE / f"java-lib-{CONNECTOR_VERSION}"
    marker = lib / ".complete"
    if not marker.exists():
        if shutil.which("mvn") is None:
            raise EngineError("Maven (mvn) is needed once to fetch the Java Pulsar connector from Maven Central")
        shutil.rmtree(lib, ignore_errors=True)
        print(f"fetching flink-connector-pulsar {CONNECTOR_VERSION} and its dependencies into {lib} ...", flush=True)
        command = ["mvn", "-q", "-B", "-s", str(MAVEN_SETTINGS), "-f", str(POM),
                   f"-Dconnector.version={CONNECTOR_VERSION}", "dependency:copy-dependencies",
                   "-DincludeScope=runtime", f"-DoutputDirectory={lib}"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineError(f"resolving the Java connector failed ({' '.join(command)}):\n"
                              f"{done.stdout[-3000:]}{done.stderr[-2000:]}")
        marker.touch()
    # Flink's lib/ already binds SLF4J to log4j; a second slf4j-api on the job classpath only adds noise.
    return sorted(str(jar) for jar in lib.glob("*.jar") if not jar.name.startswith("slf4j-"))


def job_environment(engine: str) -> dict[str, str]:
    """Environment of a job process: its venv first on PATH (PyFlink starts `python` workers from PATH) and the
    project on PYTHONPATH (the 1.18 venv has the connector's dependencies, not the connector installed)."""
    python = python_for(engine)
    return {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT), "JAVA_HOME": java_home()}
