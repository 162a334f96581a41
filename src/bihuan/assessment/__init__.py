"""Scientific assessment (科学研判): pure maths over plain data, no database, no web, no clock of its own."""

from bihuan.assessment.pooling import (
    SINGLE_TUBE,
    PoolCount,
    PoolingAdvice,
    PoolOption,
    advise_pooling,
    best_pool_size,
    dorfman_tests_per_person,
    expected_tests,
    pool_option,
    pool_positivity,
    prevalence_from_pool_positivity,
    prevalence_from_pools,
)

__all__ = [
    "SINGLE_TUBE",
    "PoolCount",
    "PoolOption",
    "PoolingAdvice",
    "advise_pooling",
    "best_pool_size",
    "dorfman_tests_per_person",
    "expected_tests",
    "pool_option",
    "pool_positivity",
    "prevalence_from_pool_positivity",
    "prevalence_from_pools",
]
