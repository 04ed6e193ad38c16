"""A heapgraph dataset in Apache Spark (PySpark, local mode): every table
as a temporary view with the Hive partition column ``dump`` (Spark's
partition discovery, with the dataset as ``basePath``), then the fleet
recipe of docs/sql.md, unchanged.

    heapgraph export --dataset fleet/ testdata/hprof/paths/*.hprof.gz
    python examples/sql/spark_fleet.py fleet/
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import SparkSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet_query import TABLES, files_of, recipe  # noqa: E402


def session(dataset: Path) -> SparkSession:
    """A local Spark session with the dataset's tables as views."""
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("heapgraph-fleet")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table in (*TABLES, "dumps"):
        frame = spark.read.option("basePath", str(dataset)).parquet(files_of(dataset, table))
        frame.createOrReplaceTempView(table)
    return spark


def main() -> None:
    spark = session(Path(sys.argv[1]))
    for row in spark.sql(recipe()).collect():
        print(*row, sep="\t")
    spark.stop()


if __name__ == "__main__":
    main()
