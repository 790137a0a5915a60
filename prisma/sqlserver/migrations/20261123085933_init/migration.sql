BEGIN TRY

BEGIN TRAN;

-- CreateTable
CREATE TABLE [dbo].[import_jobs] (
    [id] NVARCHAR(36) NOT NULL,
    [folder_id] NVARCHAR(200) NOT NULL,
    [folder_name] NVARCHAR(1024),
    [resource_key] NVARCHAR(200),
    [destination] NVARCHAR(16) NOT NULL,
    [status] NVARCHAR(32) NOT NULL CONSTRAINT [import_jobs_status_df] DEFAULT 'queued',
    [batch_size] INT NOT NULL,
    [listing_complete] BIT NOT NULL CONSTRAINT [import_jobs_listing_complete_df] DEFAULT 0,
    [total_files] INT NOT NULL CONSTRAINT [import_jobs_total_files_df] DEFAULT 0,
    [stored_files] INT NOT NULL CONSTRAINT [import_jobs_stored_files_df] DEFAULT 0,
    [skipped_files] INT NOT NULL CONSTRAINT [import_jobs_skipped_files_df] DEFAULT 0,
    [failed_files] INT NOT NULL CONSTRAINT [import_jobs_failed_files_df] DEFAULT 0,
    [bytes_total] BIGINT NOT NULL CONSTRAINT [import_jobs_bytes_total_df] DEFAULT 0,
    [bytes_done] BIGINT NOT NULL CONSTRAINT [import_jobs_bytes_done_df] DEFAULT 0,
    [error] NVARCHAR(4000),
    [next_batch_index] INT NOT NULL CONSTRAINT [import_jobs_next_batch_index_df] DEFAULT 0,
    [open_batch_files] INT NOT NULL CONSTRAINT [import_jobs_open_batch_files_df] DEFAULT 0,
    [created_at] DATETIME2 NOT NULL CONSTRAINT [import_jobs_created_at_df] DEFAULT CURRENT_TIMESTAMP,
    [started_at] DATETIME2,
    [finished_at] DATETIME2,
    [updated_at] DATETIME2 NOT NULL,
    CONSTRAINT [import_jobs_pkey] PRIMARY KEY CLUSTERED ([id])
);

-- CreateTable
CREATE TABLE [dbo].[batches] (
    [id] NVARCHAR(64) NOT NULL,
    [job_id] NVARCHAR(36) NOT NULL,
    [batch_index] INT NOT NULL,
    [status] NVARCHAR(16) NOT NULL CONSTRAINT [batches_status_df] DEFAULT 'open',
    [file_count] INT NOT NULL CONSTRAINT [batches_file_count_df] DEFAULT 0,
    [done_count] INT NOT NULL CONSTRAINT [batches_done_count_df] DEFAULT 0,
    [created_at] DATETIME2 NOT NULL CONSTRAINT [batches_created_at_df] DEFAULT CURRENT_TIMESTAMP,
    [sealed_at] DATETIME2,
    [finished_at] DATETIME2,
    [updated_at] DATETIME2 NOT NULL,
    CONSTRAINT [batches_pkey] PRIMARY KEY CLUSTERED ([id]),
    CONSTRAINT [batches_job_id_batch_index_key] UNIQUE NONCLUSTERED ([job_id], [batch_index])
);

-- CreateTable
CREATE TABLE [dbo].[files] (
    [id] INT NOT NULL IDENTITY(1,1),
    [job_id] NVARCHAR(36) NOT NULL,
    [batch_id] NVARCHAR(64),
    [drive_id] NVARCHAR(200) NOT NULL,
    [name] NVARCHAR(MAX) NOT NULL,
    [folder_path] NVARCHAR(MAX) NOT NULL,
    [mime_type] NVARCHAR(255) NOT NULL,
    [size] BIGINT,
    [md5] NVARCHAR(32),
    [modified_time] DATETIME2,
    [width] INT,
    [height] INT,
    [taken_at] NVARCHAR(64),
    [status] NVARCHAR(16) NOT NULL CONSTRAINT [files_status_df] DEFAULT 'pending',
    [attempts] INT NOT NULL CONSTRAINT [files_attempts_df] DEFAULT 0,
    [error] NVARCHAR(4000),
    [storage_provider] NVARCHAR(16),
    [storage_key] NVARCHAR(1024) NOT NULL,
    [etag] NVARCHAR(255),
    [bytes_copied] BIGINT,
    [created_at] DATETIME2 NOT NULL CONSTRAINT [files_created_at_df] DEFAULT CURRENT_TIMESTAMP,
    [updated_at] DATETIME2 NOT NULL,
    CONSTRAINT [files_pkey] PRIMARY KEY CLUSTERED ([id]),
    CONSTRAINT [files_job_id_drive_id_key] UNIQUE NONCLUSTERED ([job_id], [drive_id])
);

-- CreateIndex
CREATE NONCLUSTERED INDEX [import_jobs_created_at_idx] ON [dbo].[import_jobs]([created_at]);

-- CreateIndex
CREATE NONCLUSTERED INDEX [batches_job_id_status_idx] ON [dbo].[batches]([job_id], [status]);

-- CreateIndex
CREATE NONCLUSTERED INDEX [files_job_id_status_idx] ON [dbo].[files]([job_id], [status]);

-- CreateIndex
CREATE NONCLUSTERED INDEX [files_job_id_updated_at_idx] ON [dbo].[files]([job_id], [updated_at]);

-- CreateIndex
CREATE NONCLUSTERED INDEX [files_batch_id_idx] ON [dbo].[files]([batch_id]);

-- CreateIndex
CREATE NONCLUSTERED INDEX [files_storage_provider_md5_idx] ON [dbo].[files]([storage_provider], [md5]);

-- AddForeignKey
ALTER TABLE [dbo].[batches] ADD CONSTRAINT [batches_job_id_fkey] FOREIGN KEY ([job_id]) REFERENCES [dbo].[import_jobs]([id]) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE [dbo].[files] ADD CONSTRAINT [files_job_id_fkey] FOREIGN KEY ([job_id]) REFERENCES [dbo].[import_jobs]([id]) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE [dbo].[files] ADD CONSTRAINT [files_batch_id_fkey] FOREIGN KEY ([batch_id]) REFERENCES [dbo].[batches]([id]) ON DELETE NO ACTION ON UPDATE NO ACTION;

COMMIT TRAN;

END TRY
BEGIN CATCH

IF @@TRANCOUNT > 0
BEGIN
    ROLLBACK TRAN;
END;
THROW

END CATCH
