"""Rules as code (OpenFisca): the tier of each person and household, the monthly amounts
and the explanation (docs/contracts/assess.md, docs/policy.md §2–3).

- `entities.py`, `system.py`: the person and household entities; the TaxBenefitSystem, built once.
- `variables/`: one OpenFisca variable per file, by topic; local standards are input
  variables whose formulas give the dated defaults.
- `parameters/`: dated YAML, each value with `metadata.reference`.
- `model.py`: the assessment input contract and its validation; `service.py`: `assess`
  (one household) and `assess_many` (column arrays, one simulation); `explain.py`: the
  explanation entries; `api.py`: `router` (POST /assess); `cli.py`: `assess` (the command).
"""
