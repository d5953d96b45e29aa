"""Input validation for the estimator: scikit-learn's checks, with advice first.

scikit-learn's messages are precise but long (the NaN one runs to two URLs);
a user reads the first sentence, so the sentence that says what to do comes
first and scikit-learn's text follows it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["validate_input"]

#: Advice put before scikit-learn's input-validation errors, by what they say.
_INPUT_ADVICE = (
    (("could not convert", "Unable to convert"),
     "SculptRegressor needs numeric X and y with a custom module: encode categorical or "
     "text feature columns first (OneHotEncoder or OrdinalEncoder in a ColumnTransformer), "
     "or use the default module (module=None), which encodes them itself."),
    (("contains NaN", "contains infinity"),
     "X or y holds NaN or infinite values: impute X (a SimpleImputer in a Pipeline, or the "
     "default module, which handles missing values itself) and drop those rows of y."),
    (("dim 3", "dim 4", "dim 5"),
     "X must be 2-D (n_samples, n_features); flatten extra axes, e.g. X.reshape(len(X), -1)."),
    (("features, but", "feature names should match"),
     "Pass the same columns as in fit, in the same order."),
    (("inconsistent numbers of samples",),
     "X, y and sample_weight need one row per sample."),
    (("0 sample(s)", "1 sample(s)"),
     "fit needs at least 2 rows (and a validation row when early_stopping=True)."),
)


def validate_input(validate: Any, *args: Any, **kwargs: Any) -> Any:
    """Call scikit-learn's ``validate`` and put advice in front of its ValueError.

    Parameters
    ----------
    validate : callable
        ``sklearn.utils.validation.validate_data`` or a function like it.
    *args, **kwargs
        Passed to ``validate``.

    Returns
    -------
    Whatever ``validate`` returns.
    """
    try:
        return validate(*args, **kwargs)
    except ValueError as exc:
        message = str(exc)
        for needles, advice in _INPUT_ADVICE:
            if any(needle in message for needle in needles):
                raise ValueError(f"{advice} ({message.strip()})") from exc
        raise
