//! Conveniences on the generated message types.

use crate::pb::{
    ErrorCode, ItemError, Mode, Verdict, VerifyBatchRequest, VerifyOptions, VerifyRequest,
};

impl VerifyRequest {
    /// An item with an id (echoed in its verdict), the reference answer, and
    /// the model's response; the other fields are empty.
    ///
    /// ```
    /// use tinyv_client::{Mode, VerifyRequest};
    ///
    /// let item = VerifyRequest::new("7", "\\frac12", "<think>...</think> \\boxed{0.5}")
    ///     .with_question("What is 1/2 as a decimal?")
    ///     .with_mode(Mode::RulesOnly);
    /// assert_eq!(item.ground_truth, "\\frac12");
    /// assert_eq!(item.options.unwrap().mode(), Mode::RulesOnly);
    /// ```
    pub fn new(
        id: impl Into<String>,
        ground_truth: impl Into<String>,
        response: impl Into<String>,
    ) -> Self {
        VerifyRequest {
            id: id.into(),
            ground_truth: ground_truth.into(),
            response: response.into(),
            ..Default::default()
        }
    }

    /// Sets the problem statement (the LLM verifier reads it).
    pub fn with_question(mut self, question: impl Into<String>) -> Self {
        self.question = question.into();
        self
    }

    /// Sets where the item comes from (e.g. `"math"`), for the server's metrics.
    pub fn with_data_source(mut self, data_source: impl Into<String>) -> Self {
        self.data_source = data_source.into();
        self
    }

    /// Overrides the server's default mode for this item.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.options
            .get_or_insert_with(VerifyOptions::default)
            .set_mode(mode);
        self
    }

    /// Overrides the weight of the LLM verdict (ADDON and MIXED modes), in `[0, 1]`.
    pub fn with_llm_weight(mut self, weight: f64) -> Self {
        self.options
            .get_or_insert_with(VerifyOptions::default)
            .llm_weight = Some(weight);
        self
    }

    /// Asks for the LLM's P(True) as a soft reward, when the backend returns
    /// log-probabilities.
    pub fn with_soft_reward(mut self, soft: bool) -> Self {
        self.options
            .get_or_insert_with(VerifyOptions::default)
            .soft_reward = Some(soft);
        self
    }
}

impl Verdict {
    /// The item's error, when the server could not verify it (then the reward
    /// is 0 and no stage decided).
    ///
    /// ```
    /// use tinyv_client::{ErrorCode, ItemError, Verdict};
    ///
    /// let mut verdict = Verdict::default();
    /// assert!(verdict.item_error().is_none());
    /// verdict.error = Some(ItemError {
    ///     code: ErrorCode::InvalidArgument as i32,
    ///     message: "ground_truth is empty".into(),
    /// });
    /// assert_eq!(verdict.item_error().unwrap().code(), ErrorCode::InvalidArgument);
    /// ```
    pub fn item_error(&self) -> Option<&ItemError> {
        self.error
            .as_ref()
            .filter(|error| error.code() != ErrorCode::Unspecified || !error.message.is_empty())
    }
}

impl From<Vec<VerifyRequest>> for VerifyBatchRequest {
    /// A batch of these items, with no batch-wide options.
    fn from(items: Vec<VerifyRequest>) -> Self {
        VerifyBatchRequest {
            items,
            options: None,
        }
    }
}

impl FromIterator<VerifyRequest> for VerifyBatchRequest {
    fn from_iter<I: IntoIterator<Item = VerifyRequest>>(items: I) -> Self {
        items.into_iter().collect::<Vec<_>>().into()
    }
}
